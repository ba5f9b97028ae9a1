/**
 * A test CA made with the real `openssl` binary (root -> intermediate -> sub
 * intermediate), in a temporary directory: signs CSRs, issues leaves with
 * chosen validity (via `openssl ca -startdate/-enddate`), and runs openssl
 * checks. Only for tests.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function openssl(args: string[], options: { input?: string | Buffer; cwd?: string } = {}): string {
  return execFileSync('openssl', args, { input: options.input, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'], encoding: 'utf8' });
}

/** True when this openssl can write `-legacy` (RC2/3DES) PKCS#12 files. */
export function opensslHasLegacy(dir: string): boolean {
  try {
    const key = path.join(dir, 'legacy-probe.key');
    const cert = path.join(dir, 'legacy-probe.crt');
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-subj', '/CN=probe', '-days', '1']);
    openssl(['pkcs12', '-export', '-legacy', '-in', cert, '-inkey', key, '-passout', 'pass:x', '-out', path.join(dir, 'legacy-probe.p12')]);
    return true;
  } catch {
    return false;
  }
}

export interface IssuedFiles {
  key: string;
  cert: string;
}

export interface OpensslCa {
  dir: string;
  root: IssuedFiles;
  intermediate: IssuedFiles;
  /** Signed by `intermediate`: a second-level intermediate. */
  sub: IssuedFiles;
  /** A path inside the CA directory. */
  file(name: string): string;
  /** Signs a CSR file; returns the certificate path. */
  signCsr(csr: string, options?: { issuer?: 'root' | 'intermediate' | 'sub'; days?: number; start?: string; end?: string; out?: string }): string;
  /** A new key (EC P-256 unless `rsaBits`) and a leaf for `names` (CN = first name, SAN = all). */
  leaf(names: string[], options?: { issuer?: 'root' | 'intermediate' | 'sub'; rsaBits?: number; start?: string; end?: string }): IssuedFiles;
  cleanup(): void;
}

const CONFIG = (dir: string): string => `
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ v3_ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ v3_leaf ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth,clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ ca ]
default_ca = CA_default
[ CA_default ]
database = ${dir}/index.txt
new_certs_dir = ${dir}/newcerts
serial = ${dir}/serial
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = copy
email_in_dn = no
[ policy_any ]
commonName = supplied
organizationName = optional
countryName = optional
`;

export function createOpensslCa(prefix = 'gatehouse-openssl-ca-'): OpensslCa {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const file = (name: string): string => path.join(dir, name);
  fs.writeFileSync(file('ca.cnf'), CONFIG(dir));
  fs.writeFileSync(file('index.txt'), '');
  fs.writeFileSync(file('serial'), '1000\n');
  fs.mkdirSync(file('newcerts'));
  const cnf = file('ca.cnf');
  let counter = 0;
  const serial = (): string => `0x${crypto.randomBytes(12).toString('hex')}`;

  openssl(['req', '-x509', '-config', cnf, '-extensions', 'v3_ca', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', file('root.key'), '-out', file('root.crt'), '-subj', '/O=Gatehouse OpenSSL Test/CN=OpenSSL Test Root CA', '-days', '3650']);
  const root = { key: file('root.key'), cert: file('root.crt') };
  const issueCa = (name: string, cn: string, issuer: IssuedFiles): IssuedFiles => {
    openssl(['req', '-new', '-config', cnf, '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`), '-subj', `/O=Gatehouse OpenSSL Test/CN=${cn}`]);
    openssl(['x509', '-req', '-in', file(`${name}.csr`), '-CA', issuer.cert, '-CAkey', issuer.key, '-set_serial', serial(), '-days', '1825', '-extfile', cnf, '-extensions', 'v3_ca', '-out', file(`${name}.crt`)]);
    return { key: file(`${name}.key`), cert: file(`${name}.crt`) };
  };
  const intermediate = issueCa('intermediate', 'OpenSSL Test Intermediate CA', root);
  const sub = issueCa('sub', 'OpenSSL Test Sub CA', intermediate);
  const issuers = { root, intermediate, sub };

  const signCsr: OpensslCa['signCsr'] = (csr, options = {}) => {
    const issuer = issuers[options.issuer ?? 'intermediate'];
    const out = options.out ?? file(`signed-${++counter}.crt`);
    if (options.start !== undefined || options.end !== undefined) {
      openssl(['ca', '-batch', '-config', cnf, '-cert', issuer.cert, '-keyfile', issuer.key, '-in', csr, '-out', out, '-notext', '-extensions', 'v3_leaf', '-startdate', options.start ?? '20200101000000Z', '-enddate', options.end ?? '20300101000000Z']);
    } else {
      openssl(['x509', '-req', '-in', csr, '-CA', issuer.cert, '-CAkey', issuer.key, '-set_serial', serial(), '-days', String(options.days ?? 90), '-extfile', cnf, '-extensions', 'v3_leaf', '-copy_extensions', 'copy', '-out', out]);
    }
    return out;
  };

  const leaf: OpensslCa['leaf'] = (names, options = {}) => {
    const n = ++counter;
    const key = file(`leaf-${n}.key`);
    const csr = file(`leaf-${n}.csr`);
    const keySpec = options.rsaBits !== undefined ? ['-newkey', `rsa:${options.rsaBits}`] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
    const san = names.map((x) => (/^[\d.]+$/.test(x) ? `IP:${x}` : `DNS:${x}`)).join(',');
    openssl(['req', '-new', '-config', cnf, ...keySpec, '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${names[0]}`, '-addext', `subjectAltName=${san}`]);
    const cert = signCsr(csr, { issuer: options.issuer, start: options.start, end: options.end, out: file(`leaf-${n}.crt`) });
    return { key, cert };
  };

  return { dir, root, intermediate, sub, file, signCsr, leaf, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
