/**
 * Configuration files carry a schema version (SPEC §14): a document without
 * one gets the current version, a saved export records it, and a file from a
 * newer Gatehouse is refused with an error naming both versions — through the
 * schema, `loadconfig` of an export, and `start --config`.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import YAML from 'yaml';
import { parseConfig } from '../../src/config/parse-config.js';
import { CONFIG_SCHEMA_VERSION } from '../../src/config/schema.js';
import { relayHome, runCli } from '../harness/gateway-process.js';

test('a document without schemaVersion gets the current one; other values are refused naming both versions', () => {
  const filled = parseConfig({ hostname: 'gw.test' });
  assert.ok(filled.ok);
  assert.equal(filled.config.schemaVersion, CONFIG_SCHEMA_VERSION);
  assert.equal(CONFIG_SCHEMA_VERSION, 1);

  const newer = parseConfig({ hostname: 'gw.test', schemaVersion: 2 });
  assert.deepEqual(newer, { ok: false, errors: ['schemaVersion: was written by a newer Gatehouse (configuration schema version 2); this one reads version 1'] });
  const bogus = parseConfig({ hostname: 'gw.test', schemaVersion: 'one' });
  assert.deepEqual(bogus, { ok: false, errors: ['schemaVersion: must be 1 (found "one"); this Gatehouse reads configuration schema version 1'] });
});

test('saveconfig writes schemaVersion; loadconfig and start --config refuse a newer one', async () => {
  const { home, configFile } = await relayHome();
  const exportFile = path.join(home, 'export.yaml');
  const save = await runCli(['--home', home, 'saveconfig', '-o', exportFile, '--passwords', 'mask']);
  assert.equal(save.code, 0, save.stderr);
  const doc = YAML.parse(fs.readFileSync(exportFile, 'utf8')) as { schemaVersion: number };
  assert.equal(doc.schemaVersion, 1);

  doc.schemaVersion = 7;
  const newerExport = path.join(home, 'newer-export.yaml');
  fs.writeFileSync(newerExport, YAML.stringify(doc));
  const load = await runCli(['--home', home, 'loadconfig', newerExport]);
  assert.equal(load.code, 1);
  assert.match(load.stderr, /schemaVersion: was written by a newer Gatehouse \(configuration schema version 7\); this one reads version 1/);

  const bare = YAML.parse(fs.readFileSync(configFile, 'utf8')) as Record<string, unknown>;
  const newerConfig = path.join(home, 'newer-config.yaml');
  fs.writeFileSync(newerConfig, YAML.stringify({ schemaVersion: 3, ...bare }));
  const start = await runCli(['--home', home, 'start', '--config', newerConfig]);
  assert.equal(start.code, 1, start.stdout);
  assert.match(start.stderr, /schemaVersion: was written by a newer Gatehouse \(configuration schema version 3\); this one reads version 1/);
  assert.doesNotMatch(start.stdout, /Gatehouse running/);
});
