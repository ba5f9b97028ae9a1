import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { emptyCounts } from './tls-counts.js';
import { hourOfFile, mergeIntoTlsReport, pruneTlsReport, readTlsReport } from './tls-report-store.js';

const H = Date.UTC(2026, 10, 29, 13);

test('hour files: merge adds, read filters by hour, a damaged file reads as empty, prune drops old hours', async () => {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-tlsrep-')), 'tls-report');
  const one = { ...emptyCounts(), connections: 1, plaintext: 1 };
  const delta = (hour: number) => new Map([[hour, { inbound: new Map([['a.test', one]]), outbound: new Map([['b.test', { ...one }]]) }]]);
  await mergeIntoTlsReport(dir, delta(H));
  await mergeIntoTlsReport(dir, delta(H));
  await mergeIntoTlsReport(dir, delta(H - 3_600_000));
  assert.deepEqual(fs.readdirSync(dir).sort(), ['20261129T12.json', '20261129T13.json']);
  assert.equal(hourOfFile('20261129T13.json'), H);
  assert.equal(hourOfFile('notes.txt'), null);
  const read = await readTlsReport(dir, H, H);
  assert.equal(read.length, 1);
  assert.deepEqual(read[0]!.counts.inbound.get('a.test'), { ...emptyCounts(), connections: 2, plaintext: 2 });
  assert.equal((await readTlsReport(dir, H - 3_600_000, H)).length, 2);
  assert.equal((fs.statSync(path.join(dir, '20261129T13.json')).mode & 0o777).toString(8), '600');

  fs.writeFileSync(path.join(dir, '20261129T13.json'), '{"inbound": {"a.test": {"connections": 5, "plaintext": -1, "x": 3}}');
  assert.equal((await readTlsReport(dir, H, H))[0]!.counts.inbound.size, 0, 'damaged JSON reads as empty');
  fs.writeFileSync(path.join(dir, '20261129T13.json'), '{"inbound": {"a.test": {"connections": 5, "plaintext": -1, "x": 3}}}');
  assert.deepEqual((await readTlsReport(dir, H, H))[0]!.counts.inbound.get('a.test'), { ...emptyCounts(), connections: 5 }, 'negative and unknown fields dropped');

  await pruneTlsReport(dir, H + 3_600_000, 90 * 60_000);
  assert.deepEqual(fs.readdirSync(dir), ['20261129T13.json']);
});
