/**
 * The worker thread of the certificate-import fuzz (certificate-fuzz.test.ts):
 * it owns a fresh home, sets up a trusted root and a target profile, then
 * feeds seeded mutations through the import services of
 * src/services/certificates.ts — certificate upload, PKCS#12 import, custom CA
 * import, and key+certificate paste — and reports every case to the main
 * thread, which holds the watchdog (a hung or crashed worker is terminated
 * and reported with the case and the seed). Loaded outside a worker (the
 * test runner runs every file of a folder it is given) it does nothing.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { UserError } from '../../src/core/errors.js';
import { initHome } from '../../src/services/home-service.js';
import { openHome } from '../../src/services/staging.js';
import { importCustomCas, importProfile, pasteProfile, uploadCertificate } from '../../src/services/certificates.js';
import { seededRandom } from '../harness/seeded-random.js';
import { mutateDer, mutatePem } from './der-mutator.js';

export interface FuzzSeeds {
  /** PKCS#12 files (low iteration counts) and their passphrase. */
  p12: { name: string; der: Uint8Array; passphrase: string }[];
  /** Leaf certificates for the upload target (PEM text, bundles, or DER as latin1). */
  upload: { name: string; pem?: string; der?: Uint8Array }[];
  /** CA bundles for the custom CA list. */
  ca: { name: string; pem?: string; der?: Uint8Array }[];
  /** Private keys (PEM) with their certificate, for paste. */
  paste: { name: string; key: string; cert: string }[];
  /** Set up before the cases: the trusted root and the profile the uploads go to. */
  setup: { rootPem: string; profileKey: string; profileCert: string; profileChain: string };
}

export interface FuzzJob {
  home: string;
  seed: number;
  count: number;
  seeds: FuzzSeeds;
}

export type FuzzMessage =
  | { type: 'ready' }
  | { type: 'start'; i: number; target: string; seedName: string; input: Uint8Array }
  | { type: 'done'; i: number; outcome: 'accepted' }
  | { type: 'done'; i: number; outcome: 'refused'; message: string }
  | { type: 'done'; i: number; outcome: 'wrong-error'; name: string; message: string; stack: string }
  | { type: 'finished' };

const job = workerData as FuzzJob;
const post = (m: FuzzMessage): void => parentPort!.postMessage(m);
const USER = 'fuzz-admin';

async function main(): Promise<void> {
  await initHome(job.home, { hostname: 'gw.test' });
  const home = openHome(job.home);
  const s = job.seeds;
  importCustomCas(home, USER, s.setup.rootPem);
  await pasteProfile(home, USER, { name: 'fuzz', privateKey: s.setup.profileKey, certificate: s.setup.profileCert, intermediates: [s.setup.profileChain] });
  post({ type: 'ready' });

  const rnd = seededRandom(job.seed);
  const pick = <T>(list: T[]): T => list[Math.floor(rnd() * list.length)]!;
  const mutateEither = (x: { pem?: string; der?: Uint8Array }): Buffer =>
    x.pem !== undefined ? mutatePem(x.pem, rnd) : mutateDer(Buffer.from(x.der!), rnd);

  for (let i = 0; i < job.count; i++) {
    let target: string;
    let seedName: string;
    let run: () => Promise<unknown>;
    let input: Buffer;
    switch (i % 4) {
      case 0: {
        const x = pick(s.upload);
        target = 'certificate upload';
        seedName = x.name;
        input = mutateEither(x);
        const certificate = input;
        run = async () => uploadCertificate(home, USER, 'fuzz', { certificate });
        break;
      }
      case 1: {
        const x = pick(s.p12);
        target = 'PKCS#12 import';
        seedName = x.name;
        input = mutateDer(Buffer.from(x.der), rnd);
        const pkcs12 = input;
        run = async () => importProfile(home, USER, { name: 'fuzz-p12', pkcs12, passphrase: x.passphrase });
        break;
      }
      case 2: {
        const x = pick(s.ca);
        target = 'custom CA import';
        seedName = x.name;
        input = mutateEither(x);
        const bundle = input;
        run = async () => importCustomCas(home, USER, bundle);
        break;
      }
      default: {
        const x = pick(s.paste);
        target = 'key and certificate paste';
        const mutateKey = rnd() < 0.6;
        seedName = `${x.name} (${mutateKey ? 'key' : 'certificate'} mutated)`;
        input = mutatePem(mutateKey ? x.key : x.cert, rnd);
        const privateKey = mutateKey ? input : x.key;
        const certificate = mutateKey ? x.cert : input;
        run = async () => pasteProfile(home, USER, { name: 'fuzz-paste', privateKey, certificate });
      }
    }
    post({ type: 'start', i, target, seedName, input: new Uint8Array(input) });
    try {
      await run();
      post({ type: 'done', i, outcome: 'accepted' });
    } catch (err) {
      if (err instanceof UserError) post({ type: 'done', i, outcome: 'refused', message: err.message });
      else {
        const e = err instanceof Error ? err : new Error(String(err));
        post({ type: 'done', i, outcome: 'wrong-error', name: e.name, message: e.message, stack: e.stack ?? '' });
      }
    }
  }
  post({ type: 'finished' });
}

// `node --test dist/test` also loads this file on its own (outside a worker): then there is nothing to do.
if (!isMainThread && workerData !== null) await main();
