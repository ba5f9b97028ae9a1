/**
 * Stage → showchanges → commit → rollbackconfig → commit, through the real CLI
 * (edits are staged with `editStaged`, the seam every editing command uses),
 * and two processes committing at once leaving a consistent history.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { ConfigStore } from '../../src/config/config-store.js';
import { homeLayout } from '../../src/core/home-layout.js';
import { editStaged, openHome } from '../../src/services/staging.js';
import { KeyStore } from '../../src/tls/key-store.js';
import { createSelfSigned } from '../../src/tls/self-signed.js';
import { runCli } from '../harness/gateway-process.js';
import { preparedHome, snapshotConfigState } from './config-fixture.js';

test('showchanges, commit, clearchanges and rollbackconfig round trip; rollback restores certificate contents', async () => {
  const { home } = await preparedHome();
  const cli = (...args: string[]) => runCli(['--home', home, ...args]);
  const store = new ConfigStore(homeLayout(home));
  const v2 = store.committed();

  let r = await cli('showchanges');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'No changes\n');
  r = await cli('commit', '-m', 'nothing');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'No changes to commit\n');
  assert.deepEqual(store.versionNumbers(), [1, 2]);

  // Stage a RAT entry and a new certificate for the Demo profile (key written to the key store first, as certconfig does).
  const replacement = await createSelfSigned({ cn: 'mx.gw.test' }, { key: 'ec-p256', days: 30 });
  const newRef = await new KeyStore(homeLayout(home).keysDir).put(replacement.privateKeyPem);
  editStaged(openHome(home), 'tester', 'test edit', (draft) => {
    draft.listeners.find((l) => l.name === 'IncomingMail')!.rat.push('example.com');
    draft.certificates[0]!.certificate = replacement.certificatePem;
    draft.certificates[0]!.key = newRef;
  });
  r = await cli('showchanges');
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.ok(lines.includes('+ listeners[IncomingMail].rat[0]: example.com'), r.stdout);
  assert.ok(lines.some((l) => /^~ certificates\[Demo\]\.certificate: certificate Gatehouse Demo Certificate, sha256 .* -> certificate mx\.gw\.test, sha256 /.test(l)), r.stdout);
  assert.ok(!r.stdout.includes('BEGIN') && !r.stdout.includes('scrypt$') && !r.stdout.includes(newRef), r.stdout);
  const json = await cli('--json', 'showchanges');
  assert.deepEqual(JSON.parse(json.stdout).changes, lines);

  // clearchanges drops them.
  r = await cli('clearchanges');
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await cli('showchanges')).stdout, 'No changes\n');
  assert.equal(fs.existsSync(homeLayout(home).stagedFile), false);

  // Stage again and commit: version 3 with user, time and comment.
  editStaged(openHome(home), 'tester', 'test edit', (draft) => {
    draft.listeners.find((l) => l.name === 'IncomingMail')!.rat.push('example.com');
    draft.certificates[0]!.certificate = replacement.certificatePem;
    draft.certificates[0]!.key = newRef;
  });
  r = await cli('commit', '-m', 'new certificate and example.com');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Committed configuration version 3\.$/m);
  assert.match(r.stdout, /^No gateway is running; version 3 applies at the next start\.$/m);
  const v3 = store.committed();
  assert.equal(v3.version, 3);
  assert.equal(v3.comment, 'new certificate and example.com');
  assert.equal(v3.config.certificates[0]!.certificate, replacement.certificatePem);
  assert.equal((await cli('showchanges')).stdout, 'No changes\n');

  // The version list: number, time, user, comment; the committed one marked.
  r = await cli('rollbackconfig');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^\s+Version\s+Committed\s+User\s+Comment$/m);
  assert.match(r.stdout, /^\s+1\s+\d{4}-\d\d-\d\dT[\d:.]+Z\s+admin\s+Initial configuration/m);
  assert.match(r.stdout, /^\*\s+3\s+\S+\s+\S+\s+new certificate and example\.com$/m);
  const listed = JSON.parse((await cli('--json', 'rollbackconfig')).stdout);
  assert.equal(listed.current, 3);
  assert.deepEqual(
    listed.versions.map((v: { version: number }) => v.version),
    [1, 2, 3],
  );

  // Roll back to version 2: the old certificate contents come back, not just the reference.
  r = await cli('rollbackconfig', '2');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Staged configuration version 2/);
  const staged = store.working();
  assert.deepEqual(staged, v2.config);
  r = await cli('showchanges');
  assert.match(r.stdout, /^- listeners\[IncomingMail\]\.rat\[0\]: example\.com$/m);
  assert.match(r.stdout, /^~ certificates\[Demo\]\.certificate: certificate mx\.gw\.test, .* -> certificate Gatehouse Demo Certificate, /m);
  r = await cli('commit', '-m', 'back to 2');
  assert.equal(r.code, 0, r.stderr);
  const v4 = store.committed();
  assert.equal(v4.version, 4);
  assert.deepEqual(v4.config, v2.config);
  assert.equal(await new KeyStore(homeLayout(home).keysDir).get(v4.config.certificates[0]!.key).then(() => true), true);

  // Rolling back to what is committed stages nothing; an unknown version fails; a bad number is a usage error.
  r = await cli('rollbackconfig', '4');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /nothing staged/);
  const before = snapshotConfigState(home);
  r = await cli('rollbackconfig', '99');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^gatehouse: no configuration version 99/);
  assert.equal((await cli('rollbackconfig', 'x')).code, 2);
  assert.deepEqual(snapshotConfigState(home), before);

  // The audit log has the actions, and no secrets.
  const audit = fs.readFileSync(homeLayout(home).auditLog, 'utf8');
  assert.match(audit, /"action":"commit version 3"/);
  assert.match(audit, /"action":"rollbackconfig 2"/);
  assert.ok(!audit.includes('PRIVATE KEY') && !audit.includes('scrypt$'));
});

test('commit refuses a staged document whose private key is missing, changing nothing', async () => {
  const { home } = await preparedHome();
  const replacement = await createSelfSigned({ cn: 'nokey.gw.test' }, { key: 'ec-p256', days: 30 });
  const keys = new KeyStore(homeLayout(home).keysDir);
  const ref = await keys.put(replacement.privateKeyPem);
  editStaged(openHome(home), 'tester', 'edit', (draft) => {
    draft.certificates[0]!.certificate = replacement.certificatePem;
    draft.certificates[0]!.key = ref;
  });
  await keys.delete(ref);
  const before = snapshotConfigState(home);
  const r = await runCli(['--home', home, 'commit', '-m', 'x']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /certificates\[Demo\]\.key: the private key sha256:[0-9a-f]{64} is not in the key store/);
  assert.deepEqual(snapshotConfigState(home), before);
});

const distSrc = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src');

/** A child process that edits (adds one RAT domain) and commits `rounds` times. */
function editAndCommitLoop(home: string, tag: string, rounds: number): Promise<number> {
  const script = `
    const { editStaged, openHome } = await import(${JSON.stringify(path.join(distSrc, 'services/staging.js'))});
    const { commitStaged } = await import(${JSON.stringify(path.join(distSrc, 'services/config-lifecycle.js'))});
    for (let i = 0; i < ${rounds}; i++) {
      editStaged(openHome(process.argv[1]), '${tag}', 'race', (d) => d.listeners[0].rat.push('${tag}-' + i + '.test'));
      commitStaged(openHome(process.argv[1]), '${tag}', '${tag} round ' + i);
    }`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, home], { stdio: ['ignore', 'ignore', 'inherit'] });
  return new Promise((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
}

test('two processes editing and committing at once leave a consistent history with no lost change', async () => {
  const { home } = await preparedHome();
  const rounds = 8;
  const codes = await Promise.all([editAndCommitLoop(home, 'a', rounds), editAndCommitLoop(home, 'b', rounds)]);
  assert.deepEqual(codes, [0, 0]);
  const store = new ConfigStore(homeLayout(home));
  const numbers = store.versionNumbers();
  assert.deepEqual(
    numbers,
    numbers.map((_, i) => i + 1),
    'versions are numbered without gaps',
  );
  assert.ok(numbers.length >= 2 + rounds && numbers.length <= 2 + 2 * rounds, `versions: ${numbers.length}`);
  const rat = store.committed().config.listeners[0]!.rat;
  for (const tag of ['a', 'b']) for (let i = 0; i < rounds; i++) assert.ok(rat.includes(`${tag}-${i}.test`), `${tag}-${i}.test lost: ${rat.join(', ')}`);
  // Every version file is complete, and each one grows the RAT (no commit overwrote another).
  let previous = -1;
  for (const n of numbers.slice(2)) {
    const size = store.version(n).config.listeners[0]!.rat.length;
    assert.ok(size > previous, `version ${n}`);
    previous = size;
  }
  assert.equal(fs.existsSync(path.join(homeLayout(home).configDir, '.lock')), false);

  // Two CLI commits racing on the same staged change: one commits, the other finds nothing to commit.
  editStaged(openHome(home), 'tester', 'edit', (d) => d.listeners[0]!.rat.push('last.test'));
  const [x, y] = await Promise.all([runCli(['--home', home, 'commit', '-m', 'x']), runCli(['--home', home, 'commit', '-m', 'y'])]);
  assert.equal(x.code, 0, x.stderr);
  assert.equal(y.code, 0, y.stderr);
  const outs = [x.stdout, y.stdout].sort();
  assert.match(outs[0]!, /^Committed configuration version \d+\./);
  assert.equal(outs[1], 'No changes to commit\n');
  assert.equal(store.versionNumbers().length, numbers.length + 1);
});
