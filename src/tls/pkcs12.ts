/**
 * PKCS#12 (RFC 7292) export and import for certificate profiles (SPEC §6.1
 * `certconfig import|export`, §3 `saveconfig --passwords encrypt`).
 *
 * Export writes what OpenSSL 3 writes by default, with a higher work factor:
 * certificates in an encryptedData and the key in a pkcs8ShroudedKeyBag, both
 * PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC), and a SHA-256 MAC. `openssl pkcs12`
 * (OpenSSL 3, no `-legacy`), Windows and Java read it.
 *
 * Import reads OpenSSL 3 files (PBES2 with AES or 3DES, any HMAC-SHA PRF,
 * SHA-1/SHA-2 or PBMAC1 MAC) and legacy files (pbeWithSHAAnd3-KeyTripleDES,
 * 2-key 3DES, RC2-128/RC2-40 with a SHA-1 MAC). The structure is parsed with
 * asn1js; key derivation, the MAC, AES and 3DES use Node's crypto; RC2, which
 * Node's OpenSSL 3 no longer offers, uses node-forge's RC2.
 *
 * Passwords: PBES2 uses the UTF-8 bytes, the PKCS#12 MAC and legacy PBE use
 * the BMPString (UTF-16BE plus two zero bytes), as RFC 7292 and OpenSSL 3 do.
 *
 * Hostile input (security catalogue §51–§52): files over 1 MiB, more than 64
 * bags, PBKDF2 iteration counts over 10,000,000, PKCS#12-KDF counts over
 * 1,000,000 (or a total work budget), unknown
 * algorithms and any malformed structure are refused with one clear line;
 * nothing here throws anything but a UserError, and no message carries key
 * material or the passphrase.
 */
import * as asn1js from 'asn1js';
import crypto from 'node:crypto';
import { UserError } from '../core/errors.js';

/** Largest PKCS#12 file accepted (bytes). */
export const PKCS12_MAX_BYTES = 1024 * 1024;
/** Largest PBKDF2 iteration count accepted (PBES2, PBMAC1; native, about 0.4 s per million). */
export const PKCS12_MAX_ITERATIONS = 10_000_000;
/**
 * Largest iteration count accepted for the PKCS#12 KDF (the classic MAC and
 * legacy PBE), which runs in JavaScript at about 2.5 s per million. Real
 * files use 2000 (Windows), 2048 (OpenSSL) or 10,000 (Java).
 */
export const PKCS12_MAX_KDF_ITERATIONS = 1_000_000;
/**
 * Iterations used on export (PBKDF2 for key and certificates, and the MAC):
 * far above OpenSSL 3's 2048, below every importer's limit (Java: 5,000,000).
 */
export const PKCS12_EXPORT_ITERATIONS = 100_000;

const MAX_BAGS = 64;
/** Total work a file may make us do, in PBKDF2 iterations (all bags and the MAC together; about 8 s at most). */
const WORK_BUDGET = 2 * PKCS12_MAX_ITERATIONS;
const MAX_CONSTRUCTED_DEPTH = 8;

const OID = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  envelopedData: '1.2.840.113549.1.7.3',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  crlBag: '1.2.840.113549.1.12.10.1.4',
  secretBag: '1.2.840.113549.1.12.10.1.5',
  safeContentsBag: '1.2.840.113549.1.12.10.1.6',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  pbmac1: '1.2.840.113549.1.5.14',
  aes128Cbc: '2.16.840.1.101.3.4.1.2',
  aes192Cbc: '2.16.840.1.101.3.4.1.22',
  aes256Cbc: '2.16.840.1.101.3.4.1.42',
  desEde3Cbc: '1.2.840.113549.3.7',
  pbeSha3Des: '1.2.840.113549.1.12.1.3',
  pbeSha2Des: '1.2.840.113549.1.12.1.4',
  pbeShaRc2128: '1.2.840.113549.1.12.1.5',
  pbeShaRc240: '1.2.840.113549.1.12.1.6',
  pbeShaRc4128: '1.2.840.113549.1.12.1.1',
  pbeShaRc440: '1.2.840.113549.1.12.1.2',
} as const;

type HashName = 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512';

/** Digest OIDs (MAC) and HMAC OIDs (PBKDF2 PRF, PBMAC1). */
const DIGESTS: Record<string, HashName> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};
const HMACS: Record<string, HashName> = {
  '1.2.840.113549.2.7': 'sha1',
  '1.2.840.113549.2.8': 'sha224',
  '1.2.840.113549.2.9': 'sha256',
  '1.2.840.113549.2.10': 'sha384',
  '1.2.840.113549.2.11': 'sha512',
};
const HASH_SIZES: Record<HashName, { out: number; block: number }> = {
  sha1: { out: 20, block: 64 },
  sha224: { out: 28, block: 64 },
  sha256: { out: 32, block: 64 },
  sha384: { out: 48, block: 128 },
  sha512: { out: 64, block: 128 },
};
const PBES2_CIPHERS: Record<string, { cipher: string; keyLength: number; ivLength: number }> = {
  [OID.aes128Cbc]: { cipher: 'aes-128-cbc', keyLength: 16, ivLength: 16 },
  [OID.aes192Cbc]: { cipher: 'aes-192-cbc', keyLength: 24, ivLength: 16 },
  [OID.aes256Cbc]: { cipher: 'aes-256-cbc', keyLength: 32, ivLength: 16 },
  [OID.desEde3Cbc]: { cipher: 'des-ede3-cbc', keyLength: 24, ivLength: 8 },
};

// ---------------------------------------------------------------------------
// Errors

/** Malformed or unsupported input: one line, no secrets. */
class Pkcs12FormatError extends Error {}

function malformed(what: string): never {
  throw new Pkcs12FormatError(what);
}

const WRONG_PASSPHRASE = 'wrong passphrase for PKCS#12 file';

// ---------------------------------------------------------------------------
// Passwords and key derivation

/** BMPString encoding of a password for the PKCS#12 KDF: UTF-16BE code units and a 0x0000 terminator. */
export function bmpPassword(passphrase: string): Buffer {
  const out = Buffer.alloc(passphrase.length * 2 + 2);
  for (let i = 0; i < passphrase.length; i++) out.writeUInt16BE(passphrase.charCodeAt(i), i * 2);
  return out;
}

const hashOnce: (alg: HashName, data: Buffer) => Buffer =
  typeof (crypto as { hash?: unknown }).hash === 'function'
    ? (alg, data) => (crypto as unknown as { hash: (a: string, d: Buffer, enc: 'buffer') => Buffer }).hash(alg, data, 'buffer')
    : (alg, data) => crypto.createHash(alg).update(data).digest();

/**
 * The PKCS#12 key derivation function (RFC 7292 Appendix B.2).
 * id 1 = encryption key, 2 = IV, 3 = MAC key. `password` is already encoded
 * (BMPString, or empty for a NULL password).
 */
export function pkcs12Kdf(hash: HashName, password: Buffer, salt: Buffer, id: 1 | 2 | 3, iterations: number, length: number): Buffer {
  const { out: u, block: v } = HASH_SIZES[hash];
  const fill = (src: Buffer): Buffer => {
    if (src.length === 0) return Buffer.alloc(0);
    const len = v * Math.ceil(src.length / v);
    const b = Buffer.alloc(len);
    for (let i = 0; i < len; i++) b[i] = src[i % src.length]!;
    return b;
  };
  const D = Buffer.alloc(v, id);
  const I = Buffer.concat([fill(salt), fill(password)]);
  const blocks: Buffer[] = [];
  let produced = 0;
  while (produced < length) {
    let A = hashOnce(hash, Buffer.concat([D, I]));
    for (let r = 1; r < iterations; r++) A = hashOnce(hash, A);
    blocks.push(A);
    produced += u;
    if (produced >= length) break;
    const B = fill(A);
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = I[j + k]! + B[k]! + carry;
        I[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(blocks).subarray(0, length);
}

const pbkdf2 = (password: Buffer, salt: Buffer, iterations: number, length: number, hash: HashName): Promise<Buffer> =>
  new Promise((resolve, reject) => crypto.pbkdf2(password, salt, iterations, length, hash, (err, key) => (err ? reject(err) : resolve(key))));

// ---------------------------------------------------------------------------
// ASN.1 reading helpers (asn1js), all bounded and throwing Pkcs12FormatError

type Node = asn1js.AsnType;

function parseDer(bytes: Uint8Array, what: string): Node {
  let parsed: ReturnType<typeof asn1js.fromBER>;
  try {
    parsed = asn1js.fromBER(bytes);
  } catch {
    malformed(`${what} is not valid DER`);
  }
  if (parsed.offset === -1 || parsed.result.error) malformed(`${what} is not valid DER`);
  if (parsed.offset !== bytes.byteLength) malformed(`${what} has trailing data`);
  return parsed.result;
}

function isUniversal(node: Node, tag: number): boolean {
  return node.idBlock.tagClass === 1 && node.idBlock.tagNumber === tag;
}

function children(node: Node | undefined, what: string, min = 0): Node[] {
  if (!node || !(node instanceof asn1js.Sequence || node instanceof asn1js.Set)) malformed(`${what}: expected a SEQUENCE`);
  const value = node.valueBlock.value;
  if (value.length < min) malformed(`${what}: too few elements`);
  return value;
}

function oidOf(node: Node | undefined, what: string): string {
  if (!(node instanceof asn1js.ObjectIdentifier)) malformed(`${what}: expected an OBJECT IDENTIFIER`);
  return node.valueBlock.toString();
}

/** A non-negative INTEGER that fits in 31 bits. */
function smallInt(node: Node | undefined, what: string): number {
  if (!(node instanceof asn1js.Integer)) malformed(`${what}: expected an INTEGER`);
  const bytes = Buffer.from(node.valueBlock.valueHexView);
  if (bytes.length === 0 || (bytes[0]! & 0x80) !== 0) malformed(`${what}: must be a positive number`);
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const significant = bytes.subarray(i);
  if (significant.length > 4 || (significant.length === 4 && significant[0]! > 0x7f)) malformed(`${what}: number too large`);
  return significant.readUIntBE(0, significant.length);
}

/** Content octets of an OCTET STRING (primitive or constructed BER chunks), or of an implicitly tagged one. */
function octets(node: Node | undefined, what: string, depth = 0): Buffer {
  if (!node || depth > MAX_CONSTRUCTED_DEPTH) malformed(`${what}: expected an OCTET STRING`);
  const block = node.valueBlock as { value?: Node[]; valueHexView?: Uint8Array };
  if (node.idBlock.isConstructed) {
    if (!Array.isArray(block.value)) malformed(`${what}: expected an OCTET STRING`);
    return Buffer.concat(block.value.map((c) => octets(c, what, depth + 1)));
  }
  if (!(block.valueHexView instanceof Uint8Array)) malformed(`${what}: expected an OCTET STRING`);
  if (node.idBlock.tagClass === 1 && node.idBlock.tagNumber !== 4) malformed(`${what}: expected an OCTET STRING`);
  return Buffer.from(block.valueHexView);
}

/** The single element inside an explicit context tag `[n]`. */
function explicit(node: Node | undefined, tag: number, what: string): Node {
  if (!node || node.idBlock.tagClass !== 3 || node.idBlock.tagNumber !== tag || !(node instanceof asn1js.Constructed)) {
    malformed(`${what}: expected [${tag}]`);
  }
  const inner = node.valueBlock.value;
  if (inner.length !== 1) malformed(`${what}: expected one element in [${tag}]`);
  return inner[0]!;
}

interface AlgorithmIdentifier {
  oid: string;
  params: Node | undefined;
}

function algorithm(node: Node | undefined, what: string): AlgorithmIdentifier {
  const parts = children(node, what, 1);
  const params = parts[1];
  return { oid: oidOf(parts[0], `${what} algorithm`), params: params && !isUniversal(params, 5) ? params : undefined };
}

// ---------------------------------------------------------------------------
// Decryption

interface Budget {
  left: number;
}

function spend(budget: Budget, iterations: number, what: string, limit = PKCS12_MAX_ITERATIONS): void {
  if (iterations < 1) malformed(`${what}: iteration count must be at least 1`);
  if (iterations > limit) malformed(`${what}: iteration count ${iterations} exceeds the limit of ${limit}`);
  // The JavaScript PKCS#12 KDF costs about six PBKDF2 iterations per iteration.
  budget.left -= limit === PKCS12_MAX_KDF_ITERATIONS ? iterations * 6 : iterations;
  if (budget.left < 0) malformed(`the file asks for more than ${WORK_BUDGET} key-derivation iterations in total`);
}

/** Which encoding of the passphrase the file's MAC matched: legacy PBE must use the same. */
interface Passwords {
  utf8: Buffer;
  bmp: Buffer;
}

class BadDecrypt extends Error {}

function decipher(cipher: string, key: Buffer, iv: Buffer, data: Buffer): Buffer {
  try {
    const d = crypto.createDecipheriv(cipher, key, iv);
    return Buffer.concat([d.update(data), d.final()]);
  } catch {
    throw new BadDecrypt();
  }
}

async function rc2Decrypt(key: Buffer, effectiveBits: number, iv: Buffer, data: Buffer): Promise<Buffer> {
  if (data.length === 0 || data.length % 8 !== 0) throw new BadDecrypt();
  // Loaded on first use: only legacy RC2 files need node-forge.
  const forge = (await import('node-forge')).default;
  const c = forge.rc2.createDecryptionCipher(forge.util.createBuffer(key.toString('binary')), effectiveBits);
  c.start(forge.util.createBuffer(iv.toString('binary')));
  c.update(forge.util.createBuffer(data.toString('binary')));
  if (!c.finish()) throw new BadDecrypt();
  return Buffer.from(c.output.getBytes(), 'binary');
}

async function decrypt(alg: AlgorithmIdentifier, data: Buffer, passwords: Passwords, budget: Budget, what: string): Promise<Buffer> {
  if (alg.oid === OID.pbes2) {
    const [kdfNode, encNode] = children(alg.params, `${what} PBES2 parameters`, 2);
    const kdf = algorithm(kdfNode, `${what} key derivation`);
    if (kdf.oid !== OID.pbkdf2) malformed(`${what}: unsupported key derivation ${kdf.oid} (expected PBKDF2)`);
    const p = children(kdf.params, `${what} PBKDF2 parameters`, 2);
    const salt = octets(p[0], `${what} PBKDF2 salt`);
    const iterations = smallInt(p[1], `${what} PBKDF2 iteration count`);
    let next = 2;
    let keyLength: number | undefined;
    if (p[next] instanceof asn1js.Integer) keyLength = smallInt(p[next++], `${what} PBKDF2 key length`);
    let prf: HashName = 'sha1';
    if (p[next] !== undefined) {
      const prfAlg = algorithm(p[next], `${what} PBKDF2 PRF`);
      const h = HMACS[prfAlg.oid];
      if (!h) malformed(`${what}: unsupported PBKDF2 PRF ${prfAlg.oid}`);
      prf = h;
    }
    const enc = algorithm(encNode, `${what} encryption scheme`);
    const cipher = PBES2_CIPHERS[enc.oid];
    if (!cipher) malformed(`${what}: unsupported encryption ${enc.oid} (expected AES-CBC or 3DES-CBC)`);
    if (keyLength !== undefined && keyLength !== cipher.keyLength) malformed(`${what}: PBKDF2 key length does not match the cipher`);
    const iv = octets(enc.params, `${what} IV`);
    if (iv.length !== cipher.ivLength) malformed(`${what}: IV has the wrong length`);
    spend(budget, iterations, `${what} PBKDF2`);
    const key = await pbkdf2(passwords.utf8, salt, iterations, cipher.keyLength, prf);
    return decipher(cipher.cipher, key, iv, data);
  }
  const legacy: Record<string, { keyLength: number; kind: '3des' | '2des' | 'rc2'; bits?: number }> = {
    [OID.pbeSha3Des]: { keyLength: 24, kind: '3des' },
    [OID.pbeSha2Des]: { keyLength: 16, kind: '2des' },
    [OID.pbeShaRc2128]: { keyLength: 16, kind: 'rc2', bits: 128 },
    [OID.pbeShaRc240]: { keyLength: 5, kind: 'rc2', bits: 40 },
  };
  const scheme = legacy[alg.oid];
  if (scheme) {
    const p = children(alg.params, `${what} PBE parameters`, 2);
    const salt = octets(p[0], `${what} PBE salt`);
    const iterations = smallInt(p[1], `${what} PBE iteration count`);
    spend(budget, iterations, `${what} PBE`, PKCS12_MAX_KDF_ITERATIONS);
    spend(budget, iterations, `${what} PBE`, PKCS12_MAX_KDF_ITERATIONS);
    const key = pkcs12Kdf('sha1', passwords.bmp, salt, 1, iterations, scheme.keyLength);
    const iv = pkcs12Kdf('sha1', passwords.bmp, salt, 2, iterations, 8);
    if (scheme.kind === '3des') return decipher('des-ede3-cbc', key, iv, data);
    if (scheme.kind === '2des') return decipher('des-ede3-cbc', Buffer.concat([key, key.subarray(0, 8)]), iv, data);
    return await rc2Decrypt(key, scheme.bits ?? 128, iv, data);
  }
  if (alg.oid === OID.pbeShaRc4128 || alg.oid === OID.pbeShaRc440) malformed(`${what}: RC4 encryption is not supported; re-export the file with AES`);
  malformed(`${what}: unsupported encryption ${alg.oid}; re-export the file with AES (OpenSSL 3 default)`);
}

// ---------------------------------------------------------------------------
// MAC

async function verifyMac(macData: Node, authSafe: Buffer, passphrase: string, budget: Budget): Promise<Passwords> {
  const [digestInfo, saltNode, iterNode] = children(macData, 'MAC data', 2);
  const [macAlgNode, digestNode] = children(digestInfo, 'MAC digest info', 2);
  const macAlg = algorithm(macAlgNode, 'MAC');
  const expected = octets(digestNode, 'MAC value');
  const salt = octets(saltNode, 'MAC salt');
  const iterations = iterNode === undefined ? 1 : smallInt(iterNode, 'MAC iteration count');
  const utf8 = Buffer.from(passphrase, 'utf8');

  if (macAlg.oid === OID.pbmac1) {
    // RFC 9579: PBKDF2 over the UTF-8 password, HMAC; macData salt/iterations are ignored.
    const [kdfNode, schemeNode] = children(macAlg.params, 'PBMAC1 parameters', 2);
    const kdf = algorithm(kdfNode, 'PBMAC1 key derivation');
    if (kdf.oid !== OID.pbkdf2) malformed('PBMAC1: unsupported key derivation');
    const p = children(kdf.params, 'PBMAC1 PBKDF2 parameters', 3);
    const kdfSalt = octets(p[0], 'PBMAC1 salt');
    if (kdfSalt.length === 0) malformed('PBMAC1: empty salt');
    const kdfIterations = smallInt(p[1], 'PBMAC1 iteration count');
    const keyLength = smallInt(p[2], 'PBMAC1 key length');
    if (keyLength < 1 || keyLength > 64) malformed('PBMAC1: key length out of range');
    let prf: HashName = 'sha1';
    if (p[3] !== undefined) {
      const h = HMACS[algorithm(p[3], 'PBMAC1 PRF').oid];
      if (!h) malformed('PBMAC1: unsupported PRF');
      prf = h;
    }
    const macHash = HMACS[algorithm(schemeNode, 'PBMAC1 message authentication scheme').oid];
    if (!macHash) malformed('PBMAC1: unsupported message authentication scheme');
    spend(budget, kdfIterations, 'PBMAC1');
    const key = await pbkdf2(utf8, kdfSalt, kdfIterations, keyLength, prf);
    const mac = crypto.createHmac(macHash, key).update(authSafe).digest();
    if (mac.length !== expected.length || !crypto.timingSafeEqual(mac, expected)) throw new UserError(WRONG_PASSPHRASE);
    return { utf8, bmp: bmpPassword(passphrase) };
  }

  const hash = DIGESTS[macAlg.oid];
  if (!hash) malformed(`unsupported MAC algorithm ${macAlg.oid}`);
  if (expected.length !== HASH_SIZES[hash].out) malformed('MAC value has the wrong length');
  // Candidates: the BMPString of the passphrase; for an empty passphrase also a
  // NULL password (OpenSSL tries both); for a non-ASCII one also the bytes of its
  // UTF-8 form as Latin-1 characters (files written by OpenSSL before 1.1.0).
  const candidates: Buffer[] = [bmpPassword(passphrase)];
  if (passphrase === '') candidates.push(Buffer.alloc(0));
  if (/[^\x00-\x7f]/.test(passphrase)) candidates.push(bmpPassword(utf8.toString('latin1')));
  for (const bmp of candidates) {
    spend(budget, iterations, 'MAC', PKCS12_MAX_KDF_ITERATIONS);
    const key = pkcs12Kdf(hash, bmp, salt, 3, iterations, HASH_SIZES[hash].out);
    const mac = crypto.createHmac(hash, key).update(authSafe).digest();
    if (crypto.timingSafeEqual(mac, expected)) return { utf8, bmp };
  }
  throw new UserError(WRONG_PASSPHRASE);
}

// ---------------------------------------------------------------------------
// Import

interface Bag {
  kind: 'key' | 'cert';
  der: Buffer;
  localKeyId: Buffer | undefined;
}

function bagAttributes(node: Node | undefined): { localKeyId: Buffer | undefined } {
  if (node === undefined) return { localKeyId: undefined };
  let localKeyId: Buffer | undefined;
  for (const attr of children(node, 'bag attributes')) {
    const [type, values] = children(attr, 'bag attribute', 2);
    if (oidOf(type, 'bag attribute type') === OID.localKeyId) {
      const first = children(values, 'localKeyId values')[0];
      if (first instanceof asn1js.OctetString) localKeyId = octets(first, 'localKeyId');
    }
  }
  return { localKeyId };
}

async function readSafeContents(der: Buffer, passwords: Passwords, budget: Budget, bags: Bag[], depth: number): Promise<void> {
  if (depth > 2) malformed('safe contents nested too deeply');
  for (const bagNode of children(parseDer(der, 'safe contents'), 'safe contents')) {
    if (bags.length >= MAX_BAGS) malformed(`more than ${MAX_BAGS} bags`);
    const parts = children(bagNode, 'safe bag', 2);
    const bagId = oidOf(parts[0], 'bag type');
    const value = explicit(parts[1], 0, 'bag value');
    const { localKeyId } = bagAttributes(parts[2]);
    switch (bagId) {
      case OID.shroudedKeyBag: {
        const [algNode, dataNode] = children(value, 'encrypted private key', 2);
        let plain: Buffer;
        try {
          plain = await decrypt(algorithm(algNode, 'private key encryption'), octets(dataNode, 'encrypted private key'), passwords, budget, 'private key');
        } catch (err) {
          if (err instanceof BadDecrypt) throw new UserError(`${WRONG_PASSPHRASE} (the private key does not decrypt with it)`);
          throw err;
        }
        bags.push({ kind: 'key', der: plain, localKeyId });
        break;
      }
      case OID.keyBag:
        bags.push({ kind: 'key', der: Buffer.from(value.toBER(false)), localKeyId });
        break;
      case OID.certBag: {
        const [certType, certValue] = children(value, 'certificate bag', 2);
        if (oidOf(certType, 'certificate type') !== OID.x509Certificate) break; // SDSI certificates: ignored
        bags.push({ kind: 'cert', der: octets(explicit(certValue, 0, 'certificate value'), 'certificate'), localKeyId });
        break;
      }
      case OID.safeContentsBag:
        await readSafeContents(Buffer.from(value.toBER(false)), passwords, budget, bags, depth + 1);
        break;
      default:
        break; // CRL and secret bags carry nothing a profile needs
    }
  }
}

function toPem(label: 'CERTIFICATE', der: Buffer): string {
  const b64 = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}-----END ${label}-----\n`;
}

/** Orders certificates from the leaf up (each followed by its issuer), then any others in file order. */
function orderChain(leaf: crypto.X509Certificate, others: crypto.X509Certificate[]): crypto.X509Certificate[] {
  const rest = [...others];
  const ordered: crypto.X509Certificate[] = [];
  let current = leaf;
  for (;;) {
    if (current.subject === current.issuer) break; // reached a self-issued certificate (a root, or a self-signed leaf)
    const i = rest.findIndex((c) => current.checkIssued(c) && current.verify(c.publicKey));
    if (i === -1) break;
    const next = rest.splice(i, 1)[0]!;
    ordered.push(next);
    current = next;
  }
  return [...ordered, ...rest];
}

async function importInner(der: Buffer, passphrase: string): Promise<{ privateKeyPem: string; certificatePem: string; chainPem: string[] }> {
  if (der.length === 0) malformed('the file is empty');
  if (der.length > PKCS12_MAX_BYTES) malformed(`the file is larger than ${PKCS12_MAX_BYTES / 1024 / 1024} MiB`);
  const budget: Budget = { left: WORK_BUDGET };
  const pfx = children(parseDer(der, 'the file'), 'PFX', 2);
  if (smallInt(pfx[0], 'PFX version') !== 3) malformed('unsupported PFX version (expected 3)');
  const [authType, authContent] = children(pfx[1], 'authenticated safe', 2);
  if (oidOf(authType, 'authenticated safe type') !== OID.data) malformed('public-key protected (signed) PKCS#12 files are not supported');
  const authSafe = octets(explicit(authContent, 0, 'authenticated safe content'), 'authenticated safe');
  const passwords: Passwords =
    pfx[2] === undefined ? { utf8: Buffer.from(passphrase, 'utf8'), bmp: bmpPassword(passphrase) } : await verifyMac(pfx[2], authSafe, passphrase, budget);

  const bags: Bag[] = [];
  for (const ci of children(parseDer(authSafe, 'authenticated safe'), 'authenticated safe')) {
    const [typeNode, contentNode] = children(ci, 'content info', 1);
    const type = oidOf(typeNode, 'content type');
    if (type === OID.data) {
      await readSafeContents(octets(explicit(contentNode, 0, 'data content'), 'data'), passwords, budget, bags, 0);
    } else if (type === OID.encryptedData) {
      const [version, eci] = children(explicit(contentNode, 0, 'encrypted data'), 'encrypted data', 2);
      smallInt(version, 'encrypted data version');
      const [innerType, algNode, encrypted] = children(eci, 'encrypted content info', 2);
      if (oidOf(innerType, 'encrypted content type') !== OID.data) malformed('encrypted content is not data');
      if (!encrypted) continue; // no content
      if (encrypted.idBlock.tagClass !== 3 || encrypted.idBlock.tagNumber !== 0) malformed('encrypted content: expected [0]');
      let plain: Buffer;
      try {
        plain = await decrypt(algorithm(algNode, 'certificate encryption'), octets(encrypted, 'encrypted content'), passwords, budget, 'certificates');
      } catch (err) {
        if (err instanceof BadDecrypt) throw new UserError(WRONG_PASSPHRASE);
        throw err;
      }
      await readSafeContents(plain, passwords, budget, bags, 0);
    } else if (type === OID.envelopedData) {
      malformed('public-key encrypted (enveloped) contents are not supported');
    } else {
      malformed(`unsupported content type ${type}`);
    }
  }

  const keys = bags.filter((b) => b.kind === 'key');
  if (keys.length === 0) throw new UserError('PKCS#12 file holds no private key');
  if (keys.length > 1) throw new UserError(`PKCS#12 file holds ${keys.length} private keys; a certificate profile takes one`);
  const keyBag = keys[0]!;
  let key: crypto.KeyObject;
  try {
    key = crypto.createPrivateKey({ key: keyBag.der, format: 'der', type: 'pkcs8' });
  } catch {
    malformed('the private key could not be read (unsupported key type or damaged)');
  }
  const certs: { cert: crypto.X509Certificate; localKeyId: Buffer | undefined }[] = [];
  for (const b of bags.filter((x) => x.kind === 'cert')) {
    try {
      const cert = new crypto.X509Certificate(b.der);
      // OpenSSL parses a certificate with a damaged public key and fails only when it is read: read it now.
      void cert.publicKey;
      certs.push({ cert, localKeyId: b.localKeyId });
    } catch {
      malformed('a certificate in the file could not be read');
    }
  }
  if (certs.length === 0) throw new UserError('PKCS#12 file holds no certificate');
  const matching = certs.filter((c) => c.cert.checkPrivateKey(key));
  if (matching.length === 0) throw new UserError('PKCS#12 file holds no certificate for its private key');
  const leaf =
    matching.find((c) => keyBag.localKeyId !== undefined && c.localKeyId !== undefined && c.localKeyId.equals(keyBag.localKeyId)) ?? matching[0]!;
  const others = certs.filter((c) => c !== leaf && !c.cert.raw.equals(leaf.cert.raw)).map((c) => c.cert);
  return {
    privateKeyPem: key.export({ type: 'pkcs8', format: 'pem' }) as string,
    certificatePem: toPem('CERTIFICATE', leaf.cert.raw),
    chainPem: orderChain(leaf.cert, others).map((c) => toPem('CERTIFICATE', c.raw)),
  };
}

/**
 * Reads a PKCS#12 file: the private key (PKCS#8 PEM), the certificate that
 * matches it, and the other certificates ordered from the leaf upward.
 * Throws `UserError('wrong passphrase for PKCS#12 file')` when the passphrase
 * is wrong, and a one-line UserError for anything malformed or unsupported.
 */
export async function importPkcs12(der: Buffer, passphrase: string): Promise<{ privateKeyPem: string; certificatePem: string; chainPem: string[] }> {
  try {
    return await importInner(der, passphrase);
  } catch (err) {
    if (err instanceof UserError) throw err;
    if (err instanceof Pkcs12FormatError) throw new UserError(`PKCS#12 file could not be read: ${err.message}`);
    // Anything else (a RangeError from a pathological structure, a crypto error) is still malformed input.
    throw new UserError('PKCS#12 file could not be read: malformed or unsupported structure');
  }
}

// ---------------------------------------------------------------------------
// Export

function seq(...value: asn1js.AsnType[]): asn1js.Sequence {
  return new asn1js.Sequence({ value });
}

function oid(value: string): asn1js.ObjectIdentifier {
  return new asn1js.ObjectIdentifier({ value });
}

function octetString(data: Buffer): asn1js.OctetString {
  return new asn1js.OctetString({ valueHex: new Uint8Array(data) });
}

function tagged(tag: number, inner: asn1js.AsnType): asn1js.Constructed {
  return new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: tag }, value: [inner] });
}

function der(node: asn1js.AsnType): Buffer {
  return Buffer.from(node.toBER(false));
}

/** PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) encryption: the AlgorithmIdentifier and the ciphertext. */
async function pbes2Encrypt(plain: Buffer, passphrase: string): Promise<{ algorithm: asn1js.Sequence; ciphertext: Buffer }> {
  const salt = crypto.randomBytes(16);
  const iv = crypto.randomBytes(16);
  const key = await pbkdf2(Buffer.from(passphrase, 'utf8'), salt, PKCS12_EXPORT_ITERATIONS, 32, 'sha256');
  const c = crypto.createCipheriv('aes-256-cbc', key, iv);
  const ciphertext = Buffer.concat([c.update(plain), c.final()]);
  const algorithm = seq(
    oid(OID.pbes2),
    seq(
      seq(oid(OID.pbkdf2), seq(octetString(salt), new asn1js.Integer({ value: PKCS12_EXPORT_ITERATIONS }), seq(oid('1.2.840.113549.2.9'), new asn1js.Null()))),
      seq(oid(OID.aes256Cbc), octetString(iv)),
    ),
  );
  return { algorithm, ciphertext };
}

function pemBlocks(pem: string): Buffer[] {
  return [...pem.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)].map((m) => Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
}

/**
 * Writes a PKCS#12 file (OpenSSL 3 format, see the file comment) holding the
 * key, its certificate and the chain. The passphrase must not be empty.
 */
export async function exportPkcs12(input: {
  privateKeyPem: string;
  certificatePem: string;
  chainPem: string[];
  passphrase: string;
  friendlyName?: string;
}): Promise<Buffer> {
  if (input.passphrase === '') throw new UserError('an empty passphrase is not allowed for a PKCS#12 export');
  let key: crypto.KeyObject;
  try {
    key = crypto.createPrivateKey(input.privateKeyPem);
  } catch {
    throw new UserError('private key could not be read (malformed, encrypted or unsupported)');
  }
  const certDers = [input.certificatePem, ...input.chainPem].flatMap(pemBlocks);
  const leafDer = certDers[0];
  if (leafDer === undefined) throw new UserError('no certificate to export');
  let leaf: crypto.X509Certificate;
  try {
    leaf = new crypto.X509Certificate(leafDer);
    for (const d of certDers.slice(1)) new crypto.X509Certificate(d);
  } catch {
    throw new UserError('a certificate to export could not be read');
  }
  if (!leaf.checkPrivateKey(key)) throw new UserError('key does not sign certificate');

  const localKeyId = crypto.createHash('sha1').update(leafDer).digest();
  const attributes = (withName: boolean): asn1js.Set => {
    const attrs: asn1js.AsnType[] = [];
    if (withName && input.friendlyName) attrs.push(seq(oid(OID.friendlyName), new asn1js.Set({ value: [new asn1js.BmpString({ value: input.friendlyName })] })));
    attrs.push(seq(oid(OID.localKeyId), new asn1js.Set({ value: [octetString(localKeyId)] })));
    return new asn1js.Set({ value: attrs });
  };

  const certBags = certDers.map((d, i) => {
    const bag = seq(oid(OID.certBag), tagged(0, seq(oid(OID.x509Certificate), tagged(0, octetString(d)))));
    if (i === 0) bag.valueBlock.value.push(attributes(true));
    return bag;
  });
  const encCerts = await pbes2Encrypt(der(seq(...certBags)), input.passphrase);
  const certContent = seq(
    oid(OID.encryptedData),
    tagged(
      0,
      seq(
        new asn1js.Integer({ value: 0 }),
        seq(oid(OID.data), encCerts.algorithm, new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 0 }, valueHex: new Uint8Array(encCerts.ciphertext) })),
      ),
    ),
  );

  const encKey = await pbes2Encrypt(key.export({ type: 'pkcs8', format: 'der' }), input.passphrase);
  const keyBag = seq(oid(OID.shroudedKeyBag), tagged(0, seq(encKey.algorithm, octetString(encKey.ciphertext))), attributes(true));
  const keyContent = seq(oid(OID.data), tagged(0, octetString(der(seq(keyBag)))));

  const authSafe = der(seq(certContent, keyContent));
  const macSalt = crypto.randomBytes(16);
  const macKey = pkcs12Kdf('sha256', bmpPassword(input.passphrase), macSalt, 3, PKCS12_EXPORT_ITERATIONS, 32);
  const mac = crypto.createHmac('sha256', macKey).update(authSafe).digest();
  const pfx = seq(
    new asn1js.Integer({ value: 3 }),
    seq(oid(OID.data), tagged(0, octetString(authSafe))),
    seq(seq(seq(oid('2.16.840.1.101.3.4.2.1'), new asn1js.Null()), octetString(mac)), octetString(macSalt), new asn1js.Integer({ value: PKCS12_EXPORT_ITERATIONS })),
  );
  return der(pfx);
}
