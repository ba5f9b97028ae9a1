/**
 * Staged and committed configuration, kept as files in the home:
 *   config/versions/v000001.json   one committed version each: number, time, user, comment, document
 *   config/staged.json             the staged document while it differs from the committed one
 * Every write is atomic (temp file, fsync, rename, fsync dir), so a crash leaves
 * either the old or the new state. Documents stored here are already validated;
 * validation with cross references is the caller's (services) job.
 *
 * Several processes may use one home at once (two admins committing, the GUI
 * and the CLI): `locked` serialises read-modify-write sequences through the
 * lock file config/.lock (created exclusively, holding the owner's pid; a lock
 * left by a dead process is broken). `commit` and `stage` take it themselves,
 * and a version file is created exclusively, so a version is never overwritten.
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomicSync } from '../core/atomic-file.js';
import type { HomeLayout } from '../core/home-layout.js';
import { fsyncDirSync } from '../core/atomic-file.js';
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
const LOCK_WAIT_MS = 15_000;
/** Lock files this process holds, with their nesting depth (the lock is re-entrant). */
const heldLocks = new Map<string, number>();

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

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

  /** Who staged the current staged document, when, and on which committed version; null when nothing is staged. */
  stagedInfo(): { basedOn: number; changedAt: string; user: string } | null {
    const staged = this.stagedFile();
    return staged === null ? null : { basedOn: staged.basedOn, changedAt: staged.changedAt, user: staged.user };
  }

  hasStagedChanges(): boolean {
    const staged = this.stagedFile();
    return staged !== null && JSON.stringify(staged.config) !== JSON.stringify(this.committed().config);
  }

  stage(config: Config, user: string): void {
    this.locked(() => {
      const file: StagedFile = { basedOn: this.committed().version, changedAt: new Date().toISOString(), user, config };
      writeFileAtomicSync(this.layout.stagedFile, JSON.stringify(file, null, 1), 0o600);
    });
  }

  clearStaged(): void {
    fs.rmSync(this.layout.stagedFile, { force: true });
  }

  /** Stores `config` as the next version and drops the staged document. */
  commit(config: Config, user: string, comment: string): VersionInfo {
    return this.locked(() => {
      const numbers = this.versionNumbers();
      const version = (numbers[numbers.length - 1] ?? 0) + 1;
      const stored: StoredVersion = { version, committedAt: new Date().toISOString(), user, comment, config };
      fs.mkdirSync(this.layout.versionsDir, { recursive: true, mode: 0o700 });
      this.createVersionFile(version, JSON.stringify(stored, null, 1));
      this.clearStaged();
      const { config: _c, ...info } = stored;
      return info;
    });
  }

  /**
   * Runs `fn` while holding the configuration lock of this home. Waits up to
   * 15 s for another process; re-entrant within one process.
   */
  locked<T>(fn: () => T): T {
    const lockFile = path.join(this.layout.configDir, '.lock');
    const depth = heldLocks.get(lockFile) ?? 0;
    if (depth > 0) {
      heldLocks.set(lockFile, depth + 1);
      try {
        return fn();
      } finally {
        heldLocks.set(lockFile, depth);
      }
    }
    fs.mkdirSync(this.layout.configDir, { recursive: true, mode: 0o700 });
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        const fd = fs.openSync(lockFile, 'wx', 0o600);
        fs.writeSync(fd, `${process.pid}\n`);
        fs.closeSync(fd);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      let owner = Number.NaN;
      try {
        owner = Number(fs.readFileSync(lockFile, 'utf8').trim());
      } catch {
        continue; // released between our attempts
      }
      if (Number.isInteger(owner) && owner > 0 && !isAlive(owner)) {
        fs.rmSync(lockFile, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new UserError(`the configuration of ${this.layout.root} is locked by process ${Number.isNaN(owner) ? '(unknown)' : owner}; try again when it has finished`);
      }
      sleepSync(10);
    }
    heldLocks.set(lockFile, 1);
    try {
      return fn();
    } finally {
      heldLocks.delete(lockFile);
      fs.rmSync(lockFile, { force: true });
    }
  }

  /** Writes a version file atomically and exclusively: an existing version is never replaced. */
  private createVersionFile(version: number, text: string): void {
    const file = this.versionFile(version);
    const tmp = `${file}.${process.pid}.tmp`;
    const fd = fs.openSync(tmp, 'w', 0o600);
    try {
      fs.writeSync(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    try {
      fs.linkSync(tmp, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new UserError(`configuration version ${version} already exists; another commit was faster, try again`);
      throw err;
    } finally {
      fs.rmSync(tmp, { force: true });
    }
    fsyncDirSync(this.layout.versionsDir);
  }

  private stagedFile(): StagedFile | null {
    if (!fs.existsSync(this.layout.stagedFile)) return null;
    return JSON.parse(fs.readFileSync(this.layout.stagedFile, 'utf8')) as StagedFile;
  }

  private versionFile(n: number): string {
    return path.join(this.layout.versionsDir, `v${String(n).padStart(6, '0')}.json`);
  }
}
