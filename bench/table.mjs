#!/usr/bin/env node
/**
 * Prints the result lines of one `npm run bench` (run-bench.sh JSON plus `scenario` and
 * `gateway_cpu_s`) as one table: per scenario and system the medians over the rounds, the
 * delivered/s ratio against Postfix, and a check column that flags any round where a message
 * was refused, not delivered, delivered without TLS, or delivered more than once.
 *   node bench/table.mjs results.jsonl [notes.txt]
 */
import fs from 'node:fs';

const [resultsFile, notesFile] = process.argv.slice(2);
const rows = fs
  .readFileSync(resultsFile, 'utf8')
  .split('\n')
  .filter((l) => l.startsWith('{'))
  .map((l) => JSON.parse(l));
const notes = notesFile && fs.existsSync(notesFile) ? fs.readFileSync(notesFile, 'utf8').split('\n').filter(Boolean) : [];

const median = (xs) => {
  const s = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return null;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const failuresOf = (r) =>
  typeof r.failures === 'number' ? r.failures : r.failures && typeof r.failures === 'object' ? Object.values(r.failures).reduce((a, b) => a + (Number(b) || 0), 0) : 0;
/** CPU seconds of the gateway's process tree per 1,000 delivered messages. */
const cpuPer1k = (r) => (typeof r.gateway_cpu_s === 'number' && r.delivered > 0 ? (r.gateway_cpu_s / r.delivered) * 1000 : null);
/** Problems of one round: every planned message accepted, delivered once, over TLS. */
function problemsOf(r) {
  const p = [];
  const failed = failuresOf(r);
  if (failed > 0) p.push(`${failed} refused/failed`);
  if (r.planned != null && r.sent < r.planned) p.push(`${r.planned - r.sent} not accepted`);
  if (r.delivered < r.sent) p.push(`${r.sent - r.delivered} NOT DELIVERED`);
  if (r.delivered_plain > 0) p.push(`${r.delivered_plain} delivered WITHOUT TLS`);
  if (r.delivered_over_tls < r.delivered) p.push(`${r.delivered - r.delivered_over_tls} not over TLS`);
  if (r.duplicates > 0) p.push(`${r.duplicates} DUPLICATES`);
  return p;
}

const groups = new Map(); // scenario -> system -> rows
for (const r of rows) {
  const sc = r.scenario ?? `${r.params?.c}x${r.params?.n}`;
  if (!groups.has(sc)) groups.set(sc, new Map());
  const bySys = groups.get(sc);
  if (!bySys.has(r.name)) bySys.set(r.name, []);
  bySys.get(r.name).push(r);
}

const fmt = (v, d = 0) => (v === null || v === undefined ? '-' : v.toFixed(d));
const header = ['scenario', 'system', 'runs', 'accepted/s', 'delivered/s', 'vs postfix', 'p50 ms', 'p99 ms', 'peak RSS MB', 'CPU s/1k msgs', 'background cores', 'check'];
const table = [header];
const flagged = [];
const summary = {};
for (const [sc, bySys] of groups) {
  const med = {};
  for (const [sys, rs] of bySys) {
    med[sys] = {
      accepted: median(rs.map((r) => r.accepted_per_s)),
      delivered: median(rs.map((r) => r.delivered_per_s)),
      p50: median(rs.map((r) => r.accept_p50_ms)),
      p99: median(rs.map((r) => r.accept_p99_ms)),
      rss: median(rs.map((r) => r.gateway_peak_rss_mb)),
      cpu: median(rs.map(cpuPer1k)),
      bg: median(rs.map((r) => r.background_cores)),
    };
  }
  summary[sc] = med;
  const pf = med.postfix?.delivered;
  for (const [sys, rs] of bySys) {
    const m = med[sys];
    const problems = rs.flatMap((r) => problemsOf(r).map((p) => `${r.run_id}: ${p}`));
    flagged.push(...problems);
    const sent = rs.reduce((a, r) => a + (r.sent ?? 0), 0);
    table.push([
      sc,
      sys,
      String(rs.length),
      fmt(m.accepted),
      fmt(m.delivered),
      pf && m.delivered !== null ? `${(m.delivered / pf).toFixed(2)}x` : '-',
      fmt(m.p50, 1),
      fmt(m.p99, 1),
      fmt(m.rss),
      fmt(m.cpu, 2),
      fmt(m.bg, 2),
      problems.length === 0 ? `ok (${sent} msgs, all TLS, no dup)` : `FLAG (${problems.length})`,
    ]);
  }
}
const widths = header.map((_, i) => Math.max(...table.map((r) => r[i].length)));
const line = (r) => r.map((c, i) => (i < 2 || i === r.length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
console.log(line(table[0]));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of table.slice(1)) console.log(line(r));

console.log('');
for (const [sc, med] of Object.entries(summary)) {
  const g = med.gatehouse?.delivered;
  if (!g) continue;
  const parts = [];
  if (med.postfix?.delivered) parts.push(`${(g / med.postfix.delivered).toFixed(2)}x Postfix (target 3x)`);
  if (med.haraka?.delivered) parts.push(`${(g / med.haraka.delivered).toFixed(2)}x Haraka (target 6x)`);
  if (parts.length) console.log(`${sc}: Gatehouse delivered/s = ${parts.join(', ')}`);
}
if (flagged.length) {
  console.log('\nFLAGGED rounds (every message must be delivered once, over TLS):');
  for (const f of flagged) console.log(`  ${f}`);
}
if (notes.length) {
  console.log('\nNotes:');
  for (const n of notes) console.log(`  ${n}`);
}
const loads = rows.map((r) => r.pre_run_busy_pct).filter((x) => typeof x === 'number');
if (loads.length) console.log(`\nmachine busy before the rounds: median ${median(loads)} % (background cores column: CPU used by other processes during a round)`);
