/**
 * Fuzz of the certificate import paths (security catalogue §51–§53): 1,000
 * seeded mutations of PEM, DER and PKCS#12 inputs through the services of
 * src/services/certificates.ts — certificate upload, PKCS#12 import, custom
 * CA import, and key+certificate paste — in a worker thread. Each input must
 * end in a result or a UserError whose message is one non-empty line without
 * a stack trace, PEM armour, the passphrase or any piece of a private key.
 * No crash (the worker dying fails the test) and no hang (a generous
 * per-input watchdog terminates the worker and names the case).
 *
 * Reproducible: the seed is printed, failing inputs are written to the temp
 * directory, and GATEHOUSE_FUZZ_SEED=<n> reruns with another seed. Seeds use
 * low PBKDF2/MAC iteration counts (16) so 1,000 cases stay well under a
 * minute. (test/certificates/fuzz-smoke.test.ts is the quick 200-case smoke
 * on the lower-level parsers.)
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { tempHome } from '../harness/gateway-fixture.js';
import { createOpensslCa, openssl, opensslHasLegacy, type OpensslCa } from '../certificates/openssl-ca.js';
import type { FuzzJob, FuzzMessage, FuzzSeeds } from './certificate-fuzz-worker.js';

const SEED = Number(process.env.GATEHOUSE_FUZZ_SEED ?? 0x5eed_1000);
const COUNT = 1000;
/** Per-input watchdog: far above any sane parse time, it only catches hangs. */
const WATCHDOG_MS = 20_000;
const PASSPHRASE = 'fuzz-secret-passphrase';

let ca: OpensslCa;
let home: string;
let seeds: FuzzSeeds;
/** 24-character windows of every private key's base64 and 48-character windows of its hex: key material fingerprints. */
const keyWindows = new Set<string>();

function addKeyMaterial(pem: string): void {
  const b64 = pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
  for (let i = 0; i + 24 <= b64.length; i++) keyWindows.add(b64.slice(i, i + 24));
  const hex = Buffer.from(b64, 'base64').toString('hex');
  for (let i = 0; i + 48 <= hex.length; i += 2) keyWindows.add(hex.slice(i, i + 48));
}

function leaksKey(message: string): boolean {
  for (const size of [24, 48]) for (let i = 0; i + size <= message.length; i++) if (keyWindows.has(message.slice(i, i + size))) return true;
  return false;
}

before(() => {
  ca = createOpensslCa('gatehouse-fuzz1k-');
  home = tempHome('gatehouse-fuzz-home-');
  const read = (f: string): string => fs.readFileSync(f, 'utf8');
  const derOf = (certFile: string): Uint8Array => new Uint8Array(Buffer.from(read(certFile).replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64'));

  const ec = ca.leaf(['fuzz.example.test']);
  const rsa = ca.leaf(['fuzz-rsa.example.test'], { rsaBits: 2048 });
  const sub = ca.leaf(['fuzz-sub.example.test'], { issuer: 'sub' });
  const sec1 = ca.file('ec-sec1.key');
  openssl(['ec', '-in', ec.key, '-out', sec1]);
  const pkcs1 = ca.file('rsa-pkcs1.key');
  openssl(['rsa', '-traditional', '-in', rsa.key, '-out', pkcs1]);
  for (const k of [ec.key, rsa.key, sub.key, sec1, pkcs1]) addKeyMaterial(read(k));

  const legacy = opensslHasLegacy(ca.dir) ? ['-legacy'] : ['-keypbe', 'PBE-SHA1-3DES', '-certpbe', 'PBE-SHA1-3DES', '-macalg', 'sha1'];
  const p12 = (name: string, leaf: { key: string; cert: string }, chain: string[], extra: string[]): FuzzSeeds['p12'][number] => {
    const out = ca.file(`${name}.p12`);
    const chainArgs = chain.length > 0 ? ['-certfile', ca.file(`${name}-chain.pem`)] : [];
    if (chain.length > 0) fs.writeFileSync(ca.file(`${name}-chain.pem`), chain.map(read).join(''));
    openssl(['pkcs12', '-export', '-iter', '16', ...extra, '-in', leaf.cert, '-inkey', leaf.key, ...chainArgs, '-passout', `pass:${PASSPHRASE}`, '-out', out]);
    return { name, der: new Uint8Array(fs.readFileSync(out)), passphrase: PASSPHRASE };
  };

  seeds = {
    setup: { rootPem: read(ca.root.cert), profileKey: read(ec.key), profileCert: read(ec.cert), profileChain: read(ca.intermediate.cert) },
    p12: [
      p12('openssl3-ec', ec, [ca.intermediate.cert], []),
      p12('openssl3-rsa', rsa, [ca.intermediate.cert], []),
      p12('openssl3-sub-chain', sub, [ca.sub.cert, ca.intermediate.cert], []),
      p12('legacy-ec', ec, [ca.intermediate.cert], legacy),
      p12('no-mac', ec, [], ['-nomac']),
    ],
    upload: [
      { name: 'leaf PEM', pem: read(ec.cert) },
      { name: 'leaf + intermediate PEM', pem: read(ec.cert) + read(ca.intermediate.cert) },
      { name: 'leaf DER', der: derOf(ec.cert) },
    ],
    ca: [
      { name: 'intermediate PEM', pem: read(ca.intermediate.cert) },
      { name: 'sub + intermediate PEM', pem: read(ca.sub.cert) + read(ca.intermediate.cert) },
      { name: 'sub DER', der: derOf(ca.sub.cert) },
      { name: 'root PEM', pem: read(ca.root.cert) },
    ],
    paste: [
      { name: 'EC PKCS#8', key: read(ec.key), cert: read(ec.cert) + read(ca.intermediate.cert) },
      { name: 'EC SEC1', key: read(sec1), cert: read(ec.cert) + read(ca.intermediate.cert) },
      { name: 'RSA PKCS#1', key: read(pkcs1), cert: read(rsa.cert) + read(ca.intermediate.cert) },
      { name: 'EC under sub CA', key: read(sub.key), cert: read(sub.cert) + read(ca.sub.cert) + read(ca.intermediate.cert) },
    ],
  };
});

after(() => {
  ca.cleanup();
  fs.rmSync(home, { recursive: true, force: true });
});

interface CaseRecord {
  target: string;
  seedName: string;
  input: Uint8Array;
  started: number;
}

test(`${COUNT} mutated PEM/DER/PKCS#12 inputs through the import services: a result or a clean UserError each (seed ${SEED})`, async () => {
  const failures: string[] = [];
  const tally = new Map<string, { accepted: number; refused: number }>();
  let slowest = { ms: 0, what: '' };
  const reproduce = `seed ${SEED} (rerun with GATEHOUSE_FUZZ_SEED=${SEED})`;
  const keep = (c: CaseRecord, i: number): string => {
    const file = path.join(os.tmpdir(), `gatehouse-fuzz-${SEED}-case-${i}.bin`);
    fs.writeFileSync(file, c.input);
    return file;
  };

  const job: FuzzJob = { home, seed: SEED, count: COUNT, seeds };
  const worker = new Worker(new URL('./certificate-fuzz-worker.js', import.meta.url), { workerData: job, resourceLimits: { maxOldGenerationSizeMb: 512 } });
  let current: { i: number; c: CaseRecord } | null = null;
  const outcome = await new Promise<string>((resolve) => {
    let watchdog: NodeJS.Timeout | undefined;
    const arm = (ms: number, why: () => string): void => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        void worker.terminate();
        resolve(why());
      }, ms);
    };
    arm(120_000, () => 'the worker did not finish its setup');
    worker.on('message', (m: FuzzMessage) => {
      if (m.type === 'ready') return;
      if (m.type === 'start') {
        current = { i: m.i, c: { target: m.target, seedName: m.seedName, input: m.input, started: Date.now() } };
        arm(WATCHDOG_MS, () => `case ${m.i} (${m.target}, seed input ${m.seedName}) did not finish within ${WATCHDOG_MS} ms: input kept in ${keep(current!.c, m.i)}`);
        return;
      }
      if (m.type === 'finished') {
        clearTimeout(watchdog);
        resolve('finished');
        return;
      }
      const c = current!.c;
      const ms = Date.now() - c.started;
      if (ms > slowest.ms) slowest = { ms, what: `case ${m.i} (${c.target}, ${c.seedName})` };
      const t = tally.get(c.target) ?? { accepted: 0, refused: 0 };
      tally.set(c.target, t);
      const where = `case ${m.i} (${c.target}, seed input ${c.seedName})`;
      if (m.outcome === 'accepted') t.accepted++;
      else if (m.outcome === 'wrong-error') failures.push(`${where}: ${m.name} instead of a UserError: ${m.message}\n${m.stack}\ninput: ${keep(c, m.i)}`);
      else {
        t.refused++;
        const msg = m.message;
        const problems = [
          msg.trim() === '' && 'empty message',
          msg.includes('\n') && 'more than one line',
          /\bat .+:\d+:\d+/.test(msg) && 'stack trace',
          /-----(BEGIN|END) /.test(msg) && 'PEM armour',
          msg.includes(PASSPHRASE) && 'the passphrase',
          leaksKey(msg) && 'private key material',
        ].filter((x): x is string => typeof x === 'string');
        if (problems.length > 0) failures.push(`${where}: message has ${problems.join(', ')}: ${JSON.stringify(msg.slice(0, 300))} input: ${keep(c, m.i)}`);
      }
    });
    worker.on('error', (err) => {
      clearTimeout(watchdog);
      const at = current ? `(last case started: ${current.i}, ${current.c.target}, ${current.c.seedName}; input kept in ${keep(current.c, current.i)})` : 'during setup';
      resolve(`the worker crashed ${at}: ${err.stack ?? String(err)}`);
    });
    worker.on('exit', (code) => {
      clearTimeout(watchdog);
      resolve(`the worker exited (code ${code}) before finishing`);
    });
  });
  await worker.terminate();

  const summary = [...tally].map(([t, n]) => `${t}: ${n.accepted} accepted, ${n.refused} refused`).join('; ');
  console.log(`certificate fuzz, ${reproduce}: ${summary}; slowest ${slowest.what} ${slowest.ms} ms`);
  assert.equal(outcome, 'finished', `${outcome} — ${reproduce}`);
  assert.deepEqual(failures, [], reproduce);
  let total = 0;
  for (const [t, n] of tally) {
    total += n.accepted + n.refused;
    assert.ok(n.refused > 0, `${t}: no mutation was refused — the fuzz is not reaching the parser (${reproduce})`);
  }
  assert.equal(total, COUNT);
});
