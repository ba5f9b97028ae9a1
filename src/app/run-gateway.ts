/**
 * Runs a gateway in the foreground as a service: pidfile, signals (SIGTERM and
 * SIGINT stop gracefully and exit 0; SIGHUP reloads the committed configuration
 * and reopens the log files).
 */
import fs from 'node:fs';
import { errorMessage, UserError } from '../core/errors.js';
import type { HomeLayout } from '../core/home-layout.js';
import { ConfigStore } from '../config/config-store.js';
import type { Config } from '../config/schema.js';
import { validateConfig } from '../services/validate-config.js';
import { Gateway, type BoundListener } from './gateway.js';

/** The pid of a live gateway on this home, or null. */
export function runningGatewayPid(layout: HomeLayout): number | null {
  if (!fs.existsSync(layout.pidFile)) return null;
  const pid = Number(fs.readFileSync(layout.pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? pid : null;
  }
}

export async function runGateway(layout: HomeLayout, config: Config, onStarted: (listeners: BoundListener[]) => void): Promise<void> {
  const other = runningGatewayPid(layout);
  if (other !== null && other !== process.pid) throw new UserError(`a gateway is already running on ${layout.root} (pid ${other}); stop it with "gatehouse stop"`);
  const gateway = new Gateway({ layout, config });
  const bound = await gateway.start();
  fs.mkdirSync(layout.runDir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(layout.pidFile, `${process.pid}\n`, { mode: 0o644 });
  onStarted(bound);

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`Received ${signal}: stopping (open sessions may finish for ${config.smtp.shutdownGraceSeconds} s)\n`);
    try {
      await gateway.stop();
    } finally {
      fs.rmSync(layout.pidFile, { force: true });
    }
    process.exit(0);
  };
  const reload = async (): Promise<void> => {
    try {
      await gateway.reopenLogs();
      const committed = new ConfigStore(layout).committed();
      const v = validateConfig(committed.config);
      if (!v.ok) {
        process.stderr.write(`reload refused: configuration version ${committed.version} is invalid:\n  ${v.errors.join('\n  ')}\n`);
        return;
      }
      await gateway.apply(v.config);
      process.stdout.write(`Reloaded configuration version ${committed.version}\n`);
    } catch (err) {
      process.stderr.write(`reload failed: ${errorMessage(err)}\n`);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGHUP', () => void reload());
}
