#!/usr/bin/env node
// Prints the run-bench.sh JSON lines of one bench run as a table, with medians per system
// and Gatehouse/peer ratios. Usage: node bench/table.mjs results.jsonl
import fs from 'node:fs';

const rows = fs.readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const median = (xs) => {
  const s = xs.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  return s.length === 0 ? null : s[Math.floor((s.length - 1) / 2)];
};
const pick = (r, ...keys) => keys.map((k) => r[k]).find((v) => v !== undefined && v !== null);
const bySystem = new Map();
for (const r of rows) {
  const name = String(r.name ?? r.run_id ?? 'unknown').split('-')[0];
  if (!bySystem.has(name)) bySystem.set(name, []);
  bySystem.get(name).push(r);
}
const metrics = [
  ['accepted/s', (r) => pick(r, 'accepted_per_s')],
  ['delivered/s', (r) => pick(r, 'delivered_per_s')],
  ['accept p50 ms', (r) => pick(r, 'accept_p50_ms', 'accept_latency_p50_ms')],
  ['accept p99 ms', (r) => pick(r, 'accept_p99_ms', 'accept_latency_p99_ms')],
  ['peak RSS MB', (r) => pick(r, 'gateway_peak_rss_mb', 'peak_rss_mb')],
  ['CPU cores', (r) => pick(r, 'gateway_cpu_cores')],
  ['failures', (r) => (typeof r.failures === 'number' ? r.failures : r.failures && typeof r.failures === 'object' ? Object.values(r.failures).reduce((a, b) => a + (Number(b) || 0), 0) : null)],
  ['background cores', (r) => pick(r, 'background_cores')],
];
const header = ['system', 'runs', ...metrics.map(([m]) => m)];
const table = [header];
const summary = {};
for (const [name, rs] of bySystem) {
  const vals = metrics.map(([, f]) => median(rs.map(f)));
  summary[name] = Object.fromEntries(metrics.map(([m], i) => [m, vals[i]]));
  table.push([name, String(rs.length), ...vals.map((v) => (v === null ? '-' : String(Math.round(v * 10) / 10)))]);
}
const widths = header.map((_, i) => Math.max(...table.map((r) => r[i].length)));
for (const r of table) console.log(r.map((c, i) => c.padEnd(widths[i])).join('  '));
const g = summary.gatehouse;
const p = summary.postfix;
if (g && p && g['accepted/s'] && p['accepted/s']) {
  console.log(`\naccepted/s ratio gatehouse/postfix: ${(g['accepted/s'] / p['accepted/s']).toFixed(2)}x`);
  if (g['accept p99 ms'] !== null && p['accept p99 ms'] !== null) console.log(`accept p99 gatehouse ${g['accept p99 ms']} ms vs postfix ${p['accept p99 ms']} ms`);
}
if (rows[0]) console.log(`\nfields of one run: ${Object.keys(rows[0]).join(', ')}`);
