/**
 * Private keys at rest: one PKCS#8 PEM per key in `<home>/keys/<hex>.pem`
 * (file 0600, directory 0700), written atomically. A key is referenced as
 * `sha256:<hex>`, hex = SHA-256 of the DER SubjectPublicKeyInfo, so a
 * certificate can be matched to its key. Errors never contain key material.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../core/atomic-file.js';

const REF_RE = /^sha256:([0-9a-f]{64})$/;
const FILE_RE = /^([0-9a-f]{64})\.pem$/;

/**
 * The key reference of a private key, public key or certificate (PEM or
 * KeyObject / X509Certificate): `sha256:` + hex SHA-256 of the DER SPKI.
 */
export function keyRefOf(keyOrCertPem: string | crypto.KeyObject | crypto.X509Certificate): string {
  let publicKey: crypto.KeyObject;
  try {
    if (keyOrCertPem instanceof crypto.X509Certificate) {
      publicKey = keyOrCertPem.publicKey;
    } else if (typeof keyOrCertPem === 'string') {
      publicKey = /-----BEGIN CERTIFICATE-----/.test(keyOrCertPem)
        ? new crypto.X509Certificate(keyOrCertPem).publicKey
        : crypto.createPublicKey(keyOrCertPem);
    } else {
      publicKey = keyOrCertPem.type === 'public' ? keyOrCertPem : crypto.createPublicKey(keyOrCertPem);
    }
  } catch {
    throw new Error('key or certificate could not be read (malformed, encrypted or unsupported)');
  }
  if (publicKey.type !== 'public') throw new Error('not an asymmetric key');
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${crypto.createHash('sha256').update(spki).digest('hex')}`;
}

/** The hex part of a reference; throws on anything else (no path tricks). */
function refHex(ref: string): string {
  const m = REF_RE.exec(ref);
  if (!m) throw new Error('invalid key reference (expected sha256:<64 hex>)');
  return m[1]!;
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export class KeyStore {
  /** @param dir the keys directory itself, normally `<home>/keys`; created (0700) on first write. */
  constructor(readonly dir: string) {}

  private fileOf(ref: string): string {
    return path.join(this.dir, `${refHex(ref)}.pem`);
  }

  /**
   * Stores a private key (PKCS#8, PKCS#1 or SEC1 PEM, unencrypted) as PKCS#8 and
   * returns its reference. Storing a key that is already present is a no-op.
   */
  async put(privateKeyPem: string): Promise<string> {
    let key: crypto.KeyObject;
    try {
      key = crypto.createPrivateKey(privateKeyPem);
    } catch {
      throw new Error('private key could not be read (malformed, encrypted or unsupported)');
    }
    const pkcs8 = key.export({ type: 'pkcs8', format: 'pem' }) as string;
    const ref = keyRefOf(key);
    const file = this.fileOf(ref);
    await fsp.mkdir(this.dir, { recursive: true, mode: 0o700 });
    await fsp.chmod(this.dir, 0o700);
    if (fs.existsSync(file)) {
      await fsp.chmod(file, 0o600);
      return ref;
    }
    await writeFileAtomic(file, pkcs8, 0o600);
    return ref;
  }

  /** The PKCS#8 PEM of a stored key; throws when absent or when the file does not hold that key. */
  async get(ref: string): Promise<string> {
    const file = this.fileOf(ref);
    let pem: string;
    try {
      pem = await fsp.readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`key ${ref} is not in the key store`);
      throw new Error(`key ${ref} could not be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    let actual: string;
    try {
      actual = keyRefOf(crypto.createPrivateKey(pem));
    } catch {
      throw new Error(`key store entry ${ref} is corrupt`);
    }
    if (actual !== ref) throw new Error(`key store entry ${ref} is corrupt (holds a different key)`);
    return pem;
  }

  has(ref: string): boolean {
    if (!REF_RE.test(ref)) return false;
    return fs.existsSync(this.fileOf(ref));
  }

  /** Removes a key; removing an absent key is not an error. */
  async delete(ref: string): Promise<void> {
    const file = this.fileOf(ref);
    try {
      await fsp.unlink(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    await fsyncDir(this.dir);
  }

  /** References of all stored keys, sorted. */
  list(): string[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return names
      .map((n) => FILE_RE.exec(n)?.[1])
      .filter((h): h is string => h !== undefined)
      .sort()
      .map((h) => `sha256:${h}`);
  }
}
