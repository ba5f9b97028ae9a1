/**
 * A fresh home for CLI round trips: `gatehouse init` in a temp directory, a
 * `gh(...args)` that runs the built CLI on it, and the staged document as the
 * store sees it (what `commit` would take).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { ConfigStore } from '../../src/config/config-store.js';
import type { Config } from '../../src/config/schema.js';
import { homeLayout } from '../../src/core/home-layout.js';
import { runCli } from '../harness/gateway-process.js';

export type CliResult = Awaited<ReturnType<typeof runCli>>;

export interface CliHome {
  home: string;
  gh(args: string[], input?: string): Promise<CliResult>;
  /** The working document (staged, else committed). */
  staged(): Config;
}

export async function cliHome(): Promise<CliHome> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-cli-'));
  const init = await runCli(['--home', home, 'init', '--hostname', 'gw.test']);
  assert.equal(init.code, 0, init.stderr);
  const store = new ConfigStore(homeLayout(home));
  return {
    home,
    gh: (args, input) => runCli(['--home', home, ...args], input === undefined ? {} : { input }),
    staged: () => store.working(),
  };
}

/** Asserts success and returns stdout. */
export function ok(r: CliResult): string {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** Asserts a failure with this exit code, one line on stderr matching `message`. */
export function refused(r: CliResult, code: 1 | 2, message: RegExp): void {
  assert.equal(r.code, code, `expected exit ${code}, got ${r.code}: ${r.stdout}${r.stderr}`);
  assert.match(r.stderr, message);
  assert.match(r.stderr, /^gatehouse: /);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, `one line: ${r.stderr}`);
}
