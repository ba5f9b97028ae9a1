/**
 * Certificate signing requests (SPEC §6.1 `certconfig csr`): a PKCS#10 request
 * signed (SHA-256) with the profile's key, carrying the subject and the
 * subjectAltName of the profile's current certificate, so the CA issues the
 * same names again.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import crypto from 'node:crypto';
import { importSigner, toArrayBuffer } from './self-signed.js';

x509.cryptoProvider.set(globalThis.crypto);

/** A PEM CSR for `privateKeyPem` with the subject and SAN of `certificatePem`. */
export async function createCsr(input: { privateKeyPem: string; certificatePem: string }): Promise<string> {
  const cert = new x509.X509Certificate(input.certificatePem);
  const key = crypto.createPrivateKey(input.privateKeyPem);
  const spki = crypto.createPublicKey(key).export({ type: 'spki', format: 'der' });
  const signer = await importSigner(input.privateKeyPem, 'SHA-256');
  const publicAlgorithm =
    key.asymmetricKeyType === 'rsa'
      ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }
      : { name: 'ECDSA', namedCurve: (signer.signingKey.algorithm as unknown as { namedCurve: string }).namedCurve };
  const publicKey = await globalThis.crypto.subtle.importKey('spki', toArrayBuffer(spki), publicAlgorithm, true, ['verify']);
  const extensions: x509.Extension[] = [];
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  if (san) extensions.push(new x509.SubjectAlternativeNameExtension(san.names.toJSON(), false));
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: cert.subjectName,
    keys: { privateKey: signer.signingKey, publicKey },
    signingAlgorithm: signer.signingAlgorithm,
    extensions,
  });
  return `${csr.toString('pem')}\n`;
}
