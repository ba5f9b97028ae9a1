// Message tracking and TLS report reading on a large mail log (run after `npm run -s build`):
//   node bench/track-bench.mjs [messages]
// Writes a synthetic JSON + text mail log of N messages (default 100,000; ~13 lines each,
// rotated every 64 MiB) into a temp home, then times `trackMessages` by MID, by sender
// domain and by recipient, and the TLS report over 30 days of hour files.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { homeLayout } from '../dist/src/core/home-layout.js';
import { MailLog } from '../dist/src/logging/mail-log.js';
import { trackMessages } from '../dist/src/services/message-tracking.js';
import { mergeIntoTlsReport, tlsReportDir } from '../dist/src/reports/tls-report-store.js';
import { tlsReport } from '../dist/src/services/tls-report.js';
import { emptyCounts } from '../dist/src/reports/tls-counts.js';

const n = Number(process.argv[2] ?? 100_000);
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-trackbench-'));
const layout = homeLayout(home);
let t = Date.now() - n * 10;
const log = await MailLog.open(layout.mailLogDir, { maxBytes: 64 * 1024 * 1024, retain: 100, rotateDaily: false, json: true, clock: { now: () => (t += 5) } });
let started = performance.now();
for (let i = 1; i <= n; i++) {
  const e = (x) => log.emit(x);
  e({ event: 'icid.new', icid: i, listener: 'IncomingMail', listenerAddress: '192.0.2.1', ip: '198.51.100.7', reverseDns: 'mx.sender.test', verified: true });
  e({ event: 'icid.policy', icid: i, behavior: 'ACCEPT', group: 'UNKNOWNLIST', rule: 'ALL', sbrs: null, policy: 'ACCEPTED', tls: 'preferred' });
  e({ event: 'icid.tls.success', icid: i, protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' });
  e({ event: 'mid.start', mid: i, icid: i });
  e({ event: 'mid.from', mid: i, icid: i, from: `user${i % 1000}@sender${i % 50}.test` });
  e({ event: 'mid.rcpt', mid: i, icid: i, rid: 0, to: `rcpt${i}@dest${i % 100}.test` });
  e({ event: 'mid.ready', mid: i, bytes: 2048, from: `user${i % 1000}@sender${i % 50}.test` });
  e({ event: 'icid.close', icid: i });
  e({ event: 'dcid.new', dcid: i, interface: '192.0.2.1', ip: '203.0.113.9', port: 25, domain: `dest${i % 100}.test`, host: 'mx.dest.test', tls: 'preferred', destination: 'default' });
  e({ event: 'dcid.tls.success', dcid: i, protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' });
  e({ event: 'dcid.delivery.start', dcid: i, mid: i, rids: [0] });
  e({ event: 'dcid.delivery.done', dcid: i, mid: i, rids: [0] });
  e({ event: 'dcid.close', dcid: i });
  if (i % 2000 === 0) await log.flush();
}
await log.close();
const bytes = fs.readdirSync(layout.mailLogDir).filter((f) => f.endsWith('.jsonl')).reduce((s, f) => s + fs.statSync(path.join(layout.mailLogDir, f)).size, 0);
console.log(`wrote ${n} messages (${(bytes / 1048576).toFixed(0)} MiB JSON) in ${((performance.now() - started) / 1000).toFixed(1)} s`);

async function time(label, fn) {
  const s = performance.now();
  const cpu = process.cpuUsage();
  const r = await fn();
  const used = process.cpuUsage(cpu);
  console.log(`${label}: ${((performance.now() - s) / 1000).toFixed(2)} s wall, ${((used.user + used.system) / 1e6).toFixed(2)} s CPU, ${r.length} stories, rss ${(process.memoryUsage().rss / 1048576).toFixed(0)} MiB`);
}
await time('track --mid', () => trackMessages(home, { mid: Math.floor(n / 2) }));
await time('track --from @sender7.test (limit 1000)', () => trackMessages(home, { from: '@sender7.test' }));
await time('track --to (one address)', () => trackMessages(home, { to: `rcpt${n - 1}@dest${(n - 1) % 100}.test` }));

// 30 days x 24 hours x 200 domains per direction.
const dir = tlsReportDir(layout.stateDir);
const now = Date.now();
for (let h = 0; h < 30 * 24; h++) {
  const hour = Math.floor(now / 3_600_000) * 3_600_000 - h * 3_600_000;
  const m = () => new Map(Array.from({ length: 200 }, (_, d) => [`d${d}.test`, { ...emptyCounts(), connections: 3, preferredSuccess: 2, plaintext: 1, messages: 4, encryptedMessages: 3 }]));
  await mergeIntoTlsReport(dir, new Map([[hour, { inbound: m(), outbound: m() }]]));
}
started = performance.now();
const cpu = process.cpuUsage();
const r = await tlsReport(home, { since: now - 30 * 86_400_000, now });
const used = process.cpuUsage(cpu);
console.log(`report tls --since 30d (720 hour files, 200 domains each way): ${((performance.now() - started) / 1000).toFixed(2)} s wall, ${((used.user + used.system) / 1e6).toFixed(2)} s CPU, ${r.inbound.domains.length} inbound domains, ${r.inbound.series.time.length} hours`);
fs.rmSync(home, { recursive: true, force: true });
