/**
 * `gatehouse tail [-n N] [-f]` and `gatehouse grep REGEX` (SPEC §9) on a home
 * whose mail log has rotated generations: grep reads them oldest first, then
 * mail.current; a bad regular expression is a one-line error (exit 1);
 * nothing matching exits 1; tail -f keeps printing across a rotation.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { homeLayout } from '../../src/core/home-layout.js';
import { MailLog } from '../../src/logging/mail-log.js';
import { tempHome } from '../harness/gateway-fixture.js';
import { CLI, runCli } from '../harness/gateway-process.js';

let home: string;
let log: MailLog;

const note = (text: string): void => log.emit({ event: 'system', text });

before(async () => {
  home = tempHome('gatehouse-logs-');
  log = await MailLog.open(homeLayout(home).mailLogDir, { maxBytes: 1024 * 1024, retain: 5, rotateDaily: false, json: true });
  note('alpha 1 (oldest generation)');
  note('beta 1');
  await log.rotate();
  note('alpha 2 (second generation)');
  await log.rotate();
  note('alpha 3 (current)');
  note('beta 2');
  note('gamma');
  await log.flush();
});

after(async () => log.close());

describe('grep', () => {
  test('matches over rotated files and mail.current, oldest first, with the ctime prefix', async () => {
    const dir = homeLayout(home).mailLogDir;
    assert.equal(fs.readdirSync(dir).filter((n) => /^mail\.@\d{8}T\d{6}\.s$/.test(n)).length, 2, 'two rotated text files');
    const r = await runCli(['--home', home, 'grep', 'alpha \\d']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.deepEqual(lines.map((l) => l.replace(/^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} Info: /, '')), ['alpha 1 (oldest generation)', 'alpha 2 (second generation)', 'alpha 3 (current)']);
    const i = await runCli(['--home', home, 'grep', '-i', 'BETA']);
    assert.equal(i.stdout.trimEnd().split('\n').length, 2);
  });

  test('no match exits 1 with no output; a bad regular expression is a clear error, exit 1', async () => {
    const none = await runCli(['--home', home, 'grep', 'delta']);
    assert.equal(none.code, 1);
    assert.equal(none.stdout, '');
    const bad = await runCli(['--home', home, 'grep', '(unclosed']);
    assert.equal(bad.code, 1);
    assert.equal(bad.stdout, '');
    assert.match(bad.stderr, /^gatehouse: invalid regular expression "\(unclosed": .+\n$/);
  });
});

describe('tail', () => {
  test('-n N prints the last N lines of mail.current only', async () => {
    const r = await runCli(['--home', home, 'tail', '-n', '2']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trimEnd().split('\n').map((l) => l.replace(/^.* Info: /, '')), ['beta 2', 'gamma']);
    const all = await runCli(['--home', home, 'tail', '-n', '100']);
    assert.deepEqual(all.stdout.trimEnd().split('\n').map((l) => l.replace(/^.* Info: /, '')), ['alpha 3 (current)', 'beta 2', 'gamma']);
    const empty = await runCli(['--home', tempHome('gatehouse-nolog-'), 'tail']);
    assert.deepEqual([empty.code, empty.stdout], [0, '']);
  });

  test('-f prints new lines as they come, across a rotation', async () => {
    const child = spawn(process.execPath, [CLI, '--home', home, 'tail', '-n', '1', '-f'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const waitFor = async (text: string): Promise<void> => {
      const deadline = Date.now() + 10_000;
      while (!out.includes(text)) {
        if (Date.now() > deadline) {
          const current = fs.readFileSync(`${homeLayout(home).mailLogDir}/mail.current`, 'utf8');
          throw new Error(`tail -f did not print "${text}" (exit ${String(child.exitCode)}):\n${out}\nmail.current:\n${current}\nfiles: ${fs.readdirSync(homeLayout(home).mailLogDir).join(' ')}`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    try {
      await waitFor('gamma'); // the last line: the follower is open from here on
      note('follow 1');
      await log.flush();
      await waitFor('follow 1');
      note('follow 2 (written just before the rotation)');
      await log.rotate();
      note('follow 3 (new file)');
      await log.flush();
      await waitFor('follow 3');
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
    const lines = out.trimEnd().split('\n').map((l) => l.replace(/^.* Info: /, ''));
    assert.deepEqual(lines, ['gamma', 'follow 1', 'follow 2 (written just before the rotation)', 'follow 3 (new file)']);
  });
});
