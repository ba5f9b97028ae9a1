/**
 * Where everything lives inside a Gatehouse home directory (SPEC §1–§2).
 * Pure path arithmetic; creating the directories is the caller's job.
 */
import path from 'node:path';

export interface HomeLayout {
  readonly root: string;
  /** Committed versions (`versions/v000001.json`) and the staged document. */
  readonly configDir: string;
  readonly versionsDir: string;
  readonly stagedFile: string;
  /** `saveconfig` exports without `-o`. */
  readonly exportsDir: string;
  /** Private keys, mode 0600, named by key reference. */
  readonly keysDir: string;
  readonly spoolDir: string;
  readonly mailLogDir: string;
  readonly auditLog: string;
  readonly runDir: string;
  readonly pidFile: string;
  readonly controlSocket: string;
  readonly stateDir: string;
  readonly idsFile: string;
}

/** `--home`, else `$GATEHOUSE_HOME`, else `./data`. */
export function resolveHome(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(option ?? env['GATEHOUSE_HOME'] ?? 'data');
}

export function homeLayout(root: string): HomeLayout {
  const r = path.resolve(root);
  const configDir = path.join(r, 'config');
  const runDir = path.join(r, 'run');
  const stateDir = path.join(r, 'state');
  return {
    root: r,
    configDir,
    versionsDir: path.join(configDir, 'versions'),
    stagedFile: path.join(configDir, 'staged.json'),
    exportsDir: path.join(r, 'configuration'),
    keysDir: path.join(r, 'keys'),
    spoolDir: path.join(r, 'spool'),
    mailLogDir: path.join(r, 'logs', 'mail_logs'),
    auditLog: path.join(r, 'logs', 'audit'),
    runDir,
    pidFile: path.join(runDir, 'gatehouse.pid'),
    controlSocket: path.join(runDir, 'control.sock'),
    stateDir,
    idsFile: path.join(stateDir, 'ids.json'),
  };
}
