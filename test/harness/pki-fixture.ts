/**
 * An in-memory test PKI: root CA -> intermediate CA -> leaves, plus an unrelated
 * root (`otherRoot`) for "untrusted" cases. Built with @peculiar/x509 like the
 * product; EC P-256 by default (fast), RSA only when asked. Nothing is cached
 * on disk.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import crypto from 'node:crypto';
import {
  type CertificateSigner,
  type KeyAlgorithm,
  type SignatureHash,
  generateKeyPair,
  importSigner,
  randomSerialHex,
  sanEntries,
  toArrayBuffer,
} from '../../src/tls/self-signed.js';

x509.cryptoProvider.set(globalThis.crypto);

export interface TestCert {
  certificatePem: string;
  privateKeyPem: string;
  certificate: crypto.X509Certificate;
  /** Issuing CAs above this certificate, nearest first, without the root (what a server sends after its leaf). */
  chainPem: string[];
}

/** A CA of the test PKI; can be passed as `issuer`. */
export interface TestCa extends TestCert {
  readonly cn: string;
  readonly isRoot: boolean;
}

export type TestEku = 'serverAuth' | 'clientAuth';
export type TestIssuer = 'root' | 'intermediate' | 'otherRoot' | TestCa;

export interface LeafOptions {
  notBefore?: Date;
  notAfter?: Date;
  /** Default `intermediate`. */
  issuer?: TestIssuer;
  /** Leaf key; default `ec-p256`. */
  key?: KeyAlgorithm;
  /** Sign with SHA-1 (sha1WithRSAEncryption from an RSA issuer, ecdsa-with-SHA1 from an EC issuer). */
  sha1?: boolean;
  /** Default `['serverAuth']` for `server`, `['clientAuth']` for `client`; `[]` leaves the extension out. */
  eku?: TestEku[];
  /** SAN entries instead of the default (DNS names or IPs); `[]` leaves the extension out (CN-only certificate). */
  san?: string[];
  /** Subject O. */
  org?: string;
}

export interface CaOptions {
  notBefore?: Date;
  notAfter?: Date;
  /** Default `root`. */
  issuer?: TestIssuer;
  key?: KeyAlgorithm;
  sha1?: boolean;
  /** basicConstraints pathLenConstraint; default none. */
  pathLength?: number;
}

export interface TestPki {
  root: TestCa;
  intermediate: TestCa;
  /** Unrelated root for "untrusted" cases; issue from it with `issuer: 'otherRoot'`. */
  otherRoot: TestCa;
  /** A server leaf: CN = names[0], SAN = names (DNS or IP). */
  server(names: string[], opts?: LeafOptions): Promise<TestCert>;
  /** A client leaf (clientAuth EKU): CN = cn, SAN = [cn] when cn is a DNS name or IP, else none. */
  client(cn: string, opts?: LeafOptions): Promise<TestCert>;
  /** Another CA (e.g. a second intermediate below `intermediate`, or an expired one). */
  ca(cn: string, opts?: CaOptions): Promise<TestCa>;
  /** PEM bundle of leaf + its chain (no root). */
  fullChainPem(cert: TestCert): string;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

interface CaInternals {
  subject: x509.Name;
  keyId: string;
  privateKeyPem: string;
  rsa: boolean;
}

/**
 * Creates the PKI. Defaults (relative to `now`, default the current time):
 * CAs valid from now-1 day for 10 years; leaves from now-1 hour for 365 days.
 */
export async function createTestPki(options: { now?: Date; key?: KeyAlgorithm } = {}): Promise<TestPki> {
  const now = options.now ?? new Date();
  const caKey = options.key ?? 'ec-p256';
  const internals = new WeakMap<TestCa, CaInternals>();
  const signers = new Map<string, CertificateSigner>();

  async function signerFor(ca: CaInternals, hash: SignatureHash): Promise<CertificateSigner> {
    const k = `${ca.keyId}/${hash}`;
    let s = signers.get(k);
    if (!s) {
      s = await importSigner(ca.privateKeyPem, hash);
      signers.set(k, s);
    }
    return s;
  }

  async function issue(p: {
    subject: x509.Name;
    issuer: TestCa | null;
    key: KeyAlgorithm;
    notBefore: Date;
    notAfter: Date;
    sha1: boolean;
    extensions: (spki: Buffer, rsa: boolean) => Promise<x509.Extension[]>;
  }): Promise<{ cert: TestCert; internals: CaInternals }> {
    const { privateKeyPem, publicKey } = await generateKeyPair(p.key);
    const spki = publicKey.export({ type: 'spki', format: 'der' });
    const rsa = publicKey.asymmetricKeyType === 'rsa';
    const ski = await x509.SubjectKeyIdentifierExtension.create(toArrayBuffer(spki));
    const self: CaInternals = { subject: p.subject, keyId: ski.keyId, privateKeyPem, rsa };
    const parent = p.issuer ? internals.get(p.issuer) : self;
    if (!parent) throw new Error('issuer is not a CA of this test PKI');
    const signer = await signerFor(parent, p.sha1 ? 'SHA-1' : 'SHA-256');
    const extensions = await p.extensions(spki, rsa);
    extensions.push(ski);
    if (p.issuer) extensions.push(new x509.AuthorityKeyIdentifierExtension(parent.keyId));
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerialHex(),
      subject: p.subject,
      issuer: parent.subject,
      notBefore: p.notBefore,
      notAfter: p.notAfter,
      publicKey: toArrayBuffer(spki),
      signingKey: signer.signingKey,
      signingAlgorithm: signer.signingAlgorithm,
      extensions,
    });
    const certificatePem = cert.toString('pem') + '\n';
    const chainPem = p.issuer && !p.issuer.isRoot ? [p.issuer.certificatePem, ...p.issuer.chainPem] : [];
    return {
      cert: { certificatePem, privateKeyPem, certificate: new crypto.X509Certificate(certificatePem), chainPem },
      internals: self,
    };
  }

  const resolveIssuer = (issuer: TestIssuer | undefined, fallback: TestCa): TestCa => {
    if (issuer === undefined) return fallback;
    if (typeof issuer !== 'string') return issuer;
    return { root, intermediate, otherRoot }[issuer];
  };

  async function makeCa(cn: string, o: CaOptions & { issuerCa: TestCa | null }): Promise<TestCa> {
    const { cert, internals: int } = await issue({
      subject: new x509.Name([{ O: [{ utf8String: 'Gatehouse Test PKI' }] }, { CN: [{ utf8String: cn }] }]),
      issuer: o.issuerCa,
      key: o.key ?? caKey,
      notBefore: o.notBefore ?? new Date(now.getTime() - DAY),
      notAfter: o.notAfter ?? new Date(now.getTime() + 3650 * DAY),
      sha1: o.sha1 ?? false,
      extensions: async () => [
        new x509.BasicConstraintsExtension(true, o.pathLength, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      ],
    });
    const ca: TestCa = { ...cert, cn, isRoot: o.issuerCa === null };
    internals.set(ca, int);
    return ca;
  }

  async function leaf(cn: string, defaultSan: string[], defaultEku: TestEku[], o: LeafOptions): Promise<TestCert> {
    const sanNames = o.san ?? defaultSan;
    const subject: x509.JsonNameParams = [];
    if (o.org) subject.push({ O: [{ utf8String: o.org }] });
    subject.push({ CN: [{ utf8String: cn }] });
    const eku = o.eku ?? defaultEku;
    const { cert } = await issue({
      subject: new x509.Name(subject),
      issuer: resolveIssuer(o.issuer, intermediate),
      key: o.key ?? 'ec-p256',
      notBefore: o.notBefore ?? new Date(now.getTime() - HOUR),
      notAfter: o.notAfter ?? new Date(now.getTime() + 365 * DAY),
      sha1: o.sha1 ?? false,
      extensions: async (_spki, rsa) => {
        const list: x509.Extension[] = [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(
            rsa ? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment : x509.KeyUsageFlags.digitalSignature,
            true,
          ),
        ];
        if (eku.length > 0) list.push(new x509.ExtendedKeyUsageExtension(eku.map((u) => x509.ExtendedKeyUsage[u]), false));
        if (sanNames.length > 0) list.push(new x509.SubjectAlternativeNameExtension(sanEntries(sanNames), false));
        return list;
      },
    });
    return cert;
  }

  const [root, otherRoot] = await Promise.all([
    makeCa('Gatehouse Test Root CA', { issuerCa: null }),
    makeCa('Gatehouse Other Root CA', { issuerCa: null }),
  ]);
  const intermediate = await makeCa('Gatehouse Test Intermediate CA', { issuerCa: root });

  return {
    root,
    intermediate,
    otherRoot,
    server: (names, opts = {}) => {
      const cn = names[0];
      if (cn === undefined) return Promise.reject(new Error('server() needs at least one name'));
      return leaf(cn, names, ['serverAuth'], opts);
    },
    client: (cn, opts = {}) => {
      let san: string[] = [];
      try {
        sanEntries([cn]);
        san = [cn];
      } catch {
        /* a CN like "Test Client" gets no SAN */
      }
      return leaf(cn, san, ['clientAuth'], opts);
    },
    ca: (cn, opts = {}) => makeCa(cn, { ...opts, issuerCa: resolveIssuer(opts.issuer, root) }),
    fullChainPem: (cert) => [cert.certificatePem, ...cert.chainPem].join(''),
  };
}
