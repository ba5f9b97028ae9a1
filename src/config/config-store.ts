/**
 * Staged and committed configuration, kept as files in the home:
 *   config/versions/v000001.json   one committed version each: number, time, user, comment, document
 *   config/staged.json             the staged document while it differs from the committed one
 * Every write is atomic (temp file, fsync, rename, fsync dir), so a crash leaves
 * either the old or the new state. Documents stored here are already validated;
 * validation with cross references is the caller's (services) job.
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomicSync } from '../core/atomic-file.js';
import type { HomeLayout } from '../core/home-layout.js';
import { UserError } from '../core/errors.js';
import type { Config } from './schema.js';

export interface VersionInfo {
  version: number;
  committedAt: string;
  user: string;
  comment: string;
}

export interface StoredVersion extends VersionInfo {
  config: Config;
}

interface StagedFile {
  basedOn: number;
  changedAt: string;
  user: string;
  config: Config;
}

const VERSION_FILE = /^v(\d{6,})\.json$/;

export class ConfigStore {
  constructor(private readonly layout: HomeLayout) {}

  /** True once `init` has committed version 1. */
  isInitialised(): boolean {
    return this.versionNumbers().length > 0;
  }

  versionNumbers(): number[] {
    if (!fs.existsSync(this.layout.versionsDir)) return [];
    return fs
      .readdirSync(this.layout.versionsDir)
      .map((f) => VERSION_FILE.exec(f)?.[1])
      .filter((v): v is string => v !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  }

  versions(): VersionInfo[] {
    return this.versionNumbers().map((n) => {
      const { config: _config, ...info } = this.version(n);
      return info;
    });
  }

  version(n: number): StoredVersion {
    const file = this.versionFile(n);
    if (!fs.existsSync(file)) throw new UserError(`no configuration version ${n} (see rollbackconfig for the list)`);
    return JSON.parse(fs.readFileSync(file, 'utf8')) as StoredVersion;
  }

  committed(): StoredVersion {
    const numbers = this.versionNumbers();
    const last = numbers[numbers.length - 1];
    if (last === undefined) throw new UserError(`no configuration in ${this.layout.root}: run "gatehouse init" first`);
    return this.version(last);
  }

  /** The staged document, or the committed one when nothing is staged. */
  working(): Config {
    return this.stagedFile()?.config ?? this.committed().config;
  }

  hasStagedChanges(): boolean {
    const staged = this.stagedFile();
    return staged !== null && JSON.stringify(staged.config) !== JSON.stringify(this.committed().config);
  }

  stage(config: Config, user: string): void {
    const file: StagedFile = { basedOn: this.committed().version, changedAt: new Date().toISOString(), user, config };
    writeFileAtomicSync(this.layout.stagedFile, JSON.stringify(file, null, 1), 0o600);
  }

  clearStaged(): void {
    fs.rmSync(this.layout.stagedFile, { force: true });
  }

  /** Stores `config` as the next version and drops the staged document. */
  commit(config: Config, user: string, comment: string): VersionInfo {
    const numbers = this.versionNumbers();
    const version = (numbers[numbers.length - 1] ?? 0) + 1;
    const stored: StoredVersion = { version, committedAt: new Date().toISOString(), user, comment, config };
    fs.mkdirSync(this.layout.versionsDir, { recursive: true, mode: 0o700 });
    writeFileAtomicSync(this.versionFile(version), JSON.stringify(stored, null, 1), 0o600);
    this.clearStaged();
    const { config: _c, ...info } = stored;
    return info;
  }

  private stagedFile(): StagedFile | null {
    if (!fs.existsSync(this.layout.stagedFile)) return null;
    return JSON.parse(fs.readFileSync(this.layout.stagedFile, 'utf8')) as StagedFile;
  }

  private versionFile(n: number): string {
    return path.join(this.layout.versionsDir, `v${String(n).padStart(6, '0')}.json`);
  }
}
