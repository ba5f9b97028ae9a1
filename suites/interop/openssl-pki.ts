/**
 * A test PKI made with the openssl command line (not with Gatehouse's own code):
 * root CA -> intermediate CA -> server leaves, written as PEM files into a folder.
 * EC P-256 keys, SHA-256 signatures, valid from now: CAs for 10 years, leaves for 365 days
 * (long enough that testssl.sh raises no expiry finding).
 */
import fs from 'node:fs';
import path from 'node:path';
import { runToolOk } from './external-tools.js';

export interface PemFiles {
  /** Subject as openssl prints it (`CN = gw.test`), for assertions on tool output. */
  subjectCn: string;
  certFile: string;
  keyFile: string;
  certPem: string;
}

export interface OpensslPki {
  dir: string;
  root: PemFiles;
  intermediate: PemFiles;
  /** Issues a server leaf from the intermediate: CN = names[0], SAN = names (DNS names or IPv4 addresses). */
  serverLeaf(fileStem: string, names: string[]): Promise<PemFiles>;
}

const CA_DAYS = 3650;
const LEAF_DAYS = 365;
const KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

function files(dir: string, stem: string, cn: string): PemFiles {
  const certFile = path.join(dir, `${stem}.pem`);
  return { subjectCn: cn, certFile, keyFile: path.join(dir, `${stem}.key`), certPem: fs.readFileSync(certFile, 'utf8') };
}

async function signed(dir: string, stem: string, cn: string, issuer: PemFiles, days: number, extensions: string[]): Promise<PemFiles> {
  const csr = path.join(dir, `${stem}.csr`);
  const ext = path.join(dir, `${stem}.ext`);
  fs.writeFileSync(ext, extensions.join('\n') + '\n');
  await runToolOk('openssl', ['req', '-new', ...KEY, '-keyout', path.join(dir, `${stem}.key`), '-out', csr, '-subj', `/O=Gatehouse Interop/CN=${cn}`]);
  await runToolOk('openssl', [
    'x509', '-req', '-in', csr, '-CA', issuer.certFile, '-CAkey', issuer.keyFile, '-CAcreateserial',
    '-days', String(days), '-sha256', '-extfile', ext, '-out', path.join(dir, `${stem}.pem`),
  ]);
  fs.chmodSync(path.join(dir, `${stem}.key`), 0o600);
  return files(dir, stem, cn);
}

export async function createOpensslPki(dir: string): Promise<OpensslPki> {
  fs.mkdirSync(dir, { recursive: true });
  await runToolOk('openssl', [
    'req', '-x509', ...KEY, '-keyout', path.join(dir, 'root.key'), '-out', path.join(dir, 'root.pem'), '-days', String(CA_DAYS), '-sha256',
    '-subj', '/O=Gatehouse Interop/CN=Interop Root CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  fs.chmodSync(path.join(dir, 'root.key'), 0o600);
  const root = files(dir, 'root', 'Interop Root CA');
  const intermediate = await signed(dir, 'intermediate', 'Interop Intermediate CA', root, CA_DAYS, [
    'basicConstraints=critical,CA:TRUE,pathlen:0',
    'keyUsage=critical,keyCertSign,cRLSign',
    'subjectKeyIdentifier=hash',
    'authorityKeyIdentifier=keyid',
  ]);
  return {
    dir,
    root,
    intermediate,
    serverLeaf: (stem, names) => {
      const cn = names[0];
      if (cn === undefined) throw new Error('serverLeaf needs a name');
      const san = names.map((n) => (/^\d+\.\d+\.\d+\.\d+$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
      return signed(dir, stem, cn, intermediate, LEAF_DAYS, [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature',
        'extendedKeyUsage=serverAuth',
        `subjectAltName=${san}`,
        'subjectKeyIdentifier=hash',
        'authorityKeyIdentifier=keyid',
      ]);
    },
  };
}
