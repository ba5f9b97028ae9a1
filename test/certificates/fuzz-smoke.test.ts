/**
 * Fuzz smoke for the certificate import paths (security catalogue §51, §53):
 * 200 seeded mutations of valid PKCS#12 files (OpenSSL 3 default, legacy,
 * ours) and PEM inputs. Every input must end in a result or a one-line
 * UserError — no other exception, no crash, no hang. (The 1,000-case fuzz
 * with the OpenSSL corpus belongs to the proof issue.)
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { UserError } from '../../src/core/errors.js';
import { readCertificates, readPrivateKey } from '../../src/tls/certificate-info.js';
import { lintChain } from '../../src/tls/chain-lint.js';
import { importPkcs12 } from '../../src/tls/pkcs12.js';
import { createOpensslCa, openssl, opensslHasLegacy, type OpensslCa } from './openssl-ca.js';
import { seededRandom as prng } from '../harness/seeded-random.js';


function mutate(seed: Buffer, rnd: () => number): Buffer {
  const int = (n: number): number => Math.floor(rnd() * n);
  const b = Buffer.from(seed);
  switch (int(7)) {
    case 0: // flip a few bytes
      for (let i = 0, n = 1 + int(8); i < n; i++) b[int(b.length)] = int(256);
      return b;
    case 1: // truncate
      return b.subarray(0, int(b.length));
    case 2: // insert random bytes
    {
      const at = int(b.length);
      return Buffer.concat([b.subarray(0, at), Buffer.from(Array.from({ length: 1 + int(16) }, () => int(256))), b.subarray(at)]);
    }
    case 3: // a huge length field
    {
      const at = int(b.length - 6);
      return Buffer.concat([b.subarray(0, at + 1), Buffer.from([0x84, 0xff, 0xff, 0xff, 0xff]), b.subarray(at + 1)]);
    }
    case 4: // zero a region
    {
      const at = int(b.length);
      b.fill(0, at, at + 1 + int(64));
      return b;
    }
    case 5: // duplicate a chunk
    {
      const at = int(b.length);
      const len = 1 + int(200);
      return Buffer.concat([b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len)]);
    }
    default: // indefinite length at a random SEQUENCE
    {
      const at = b.indexOf(0x30, int(b.length));
      if (at >= 0 && at + 1 < b.length) b[at + 1] = 0x80;
      return b;
    }
  }
}

let ca: OpensslCa;
const seeds: { name: string; der: Buffer; pass: string }[] = [];
let pemSeeds: { cert: string; key: string; chain: string };

before(() => {
  ca = createOpensslCa('gatehouse-fuzz-');
  const leaf = ca.leaf(['fuzz.example.test'], { rsaBits: 2048 });
  const ec = ca.leaf(['fuzz-ec.example.test']);
  const legacy = opensslHasLegacy(ca.dir) ? ['-legacy'] : ['-keypbe', 'PBE-SHA1-3DES', '-certpbe', 'PBE-SHA1-3DES', '-macalg', 'sha1'];
  const make = (name: string, l: { key: string; cert: string }, extra: string[]): void => {
    const out = ca.file(`${name}.p12`);
    openssl(['pkcs12', '-export', ...extra, '-in', l.cert, '-inkey', l.key, '-certfile', ca.intermediate.cert, '-passout', 'pass:fuzz', '-out', out]);
    seeds.push({ name, der: fs.readFileSync(out), pass: 'fuzz' });
  };
  make('default-rsa', leaf, []);
  make('default-ec', ec, []);
  make('legacy-rsa', leaf, legacy);
  pemSeeds = {
    cert: fs.readFileSync(ec.cert, 'utf8'),
    key: fs.readFileSync(ec.key, 'utf8'),
    chain: fs.readFileSync(ca.intermediate.cert, 'utf8'),
  };
});
after(() => ca.cleanup());

test('120 mutated PKCS#12 files: a result or a one-line UserError each, quickly', async () => {
  const rnd = prng(0x6a7e);
  let rejected = 0;
  let slowest = 0;
  for (let i = 0; i < 120; i++) {
    const seed = seeds[i % seeds.length]!;
    const input = mutate(seed.der, rnd);
    const started = Date.now();
    try {
      await importPkcs12(input, seed.pass);
    } catch (err) {
      assert.ok(err instanceof UserError, `case ${i} (${seed.name}): ${String(err)}`);
      assert.doesNotMatch(err.message, /\n/, `case ${i}: one line`);
      assert.doesNotMatch(err.message, /PRIVATE KEY|fuzz/, `case ${i}: no secrets`);
      rejected++;
    }
    slowest = Math.max(slowest, Date.now() - started);
  }
  assert.ok(rejected > 100, `most mutations are refused (${rejected})`);
  assert.ok(slowest < 5000, `slowest case ${slowest} ms`);
});

test('80 mutated PEM certificates, chains and keys: a result or a one-line UserError each', () => {
  const rnd = prng(0x9e3);
  for (let i = 0; i < 80; i++) {
    const which = i % 3;
    const src = which === 0 ? pemSeeds.cert : which === 1 ? pemSeeds.key : pemSeeds.chain + pemSeeds.cert;
    const input = mutate(Buffer.from(src), rnd);
    try {
      if (which === 1) {
        readPrivateKey(input, '--key');
      } else {
        const certs = readCertificates(input, '--cert');
        lintChain({ certificatePem: certs[0]!, intermediatesPem: certs.slice(1), trustAnchors: [], now: new Date() });
      }
    } catch (err) {
      assert.ok(err instanceof UserError, `case ${i}: ${String(err)}`);
      assert.doesNotMatch(err.message, /\n/);
      assert.doesNotMatch(err.message, /PRIVATE KEY-----|MII/);
    }
  }
});
