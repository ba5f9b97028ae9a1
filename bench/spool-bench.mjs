#!/usr/bin/env node
// Spool write benchmark (not a test): stores N messages of 2 KiB with fsync on,
// at concurrency 1, 8 and 64, and prints messages/s and fsyncs per message.
// Build first (npx tsc -p .), then: node bench/spool-bench.mjs [N] [dir]
// The spool directory defaults to a fresh one under os.tmpdir(); pass a
// directory on the disk the gateway will really use to measure that disk.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Spool } from '../dist/src/queue/spool.js';

const N = Number(process.argv[2] ?? 5000);
const base = process.argv[3] ?? os.tmpdir();
const BODY = Buffer.alloc(2048, 'x');
for (let i = 0; i < BODY.length; i += 78) BODY.write('\r\n', i);

function message(mid) {
  return {
    mid,
    icid: mid,
    receivedAt: Date.now(),
    from: 'sender@src.test',
    recipients: ['rcpt@dst.test'],
    listener: 'IncomingMail',
    bodyType: '7BIT',
    tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
    clientIp: '127.0.0.1',
  };
}

async function run(concurrency) {
  const root = mkdtempSync(path.join(base, 'gatehouse-spool-bench-'));
  try {
    const spool = await Spool.open(path.join(root, 'spool'), { fsync: true });
    const fsync0 = spool.stats().fsyncs;
    let next = 1;
    const latencies = [];
    const worker = async () => {
      while (next <= N) {
        const mid = next++;
        const t = process.hrtime.bigint();
        await spool.store(message(mid), BODY);
        latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
    };
    const t0 = process.hrtime.bigint();
    await Promise.all(Array.from({ length: concurrency }, worker));
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const fsyncs = spool.stats().fsyncs - fsync0;
    await spool.close();
    latencies.sort((a, b) => a - b);
    const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))].toFixed(2);
    return { concurrency, perSecond: Math.round(N / seconds), fsyncsPerMessage: (fsyncs / N).toFixed(3), p50: pct(0.5), p99: pct(0.99) };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

console.log(`spool bench: ${N} messages of ${BODY.length} bytes, fsync on, dir under ${base}`);
for (const c of [1, 8, 64]) {
  const r = await run(c);
  console.log(
    `concurrency ${String(r.concurrency).padStart(2)}: ${String(r.perSecond).padStart(7)} msg/s  ` +
      `${r.fsyncsPerMessage} fsyncs/msg  store latency p50 ${r.p50} ms p99 ${r.p99} ms`,
  );
}
