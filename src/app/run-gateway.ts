/**
 * Runs a gateway in the foreground as a service: pidfile, control socket
 * (`commit`/`reload`/`status`/`stop` from the CLI, see control-server.ts),
 * the admin GUI over HTTPS (gui/server.ts; a commit from the GUI applies the
 * same way as one from the control socket),
 * signals (SIGTERM and SIGINT stop gracefully and exit 0; SIGHUP reloads the
 * committed configuration and reopens the log files). Applying a configuration
 * (commit, reload, SIGHUP) is serialised: one apply at a time, in order.
 */
import fs from 'node:fs';
import { errorMessage, UserError } from '../core/errors.js';
import type { HomeLayout } from '../core/home-layout.js';
import { ConfigStore } from '../config/config-store.js';
import type { Config } from '../config/schema.js';
import type { ControlResponse } from '../core/control-protocol.js';
import { validateConfig } from '../services/validate-config.js';
import { ControlServer } from './control-server.js';
import { runQueueRequest } from '../services/queue-service.js';
import { Gateway, type BoundListener } from './gateway.js';
import { GuiServer } from '../gui/server.js';
import { GatewayMetrics } from './gateway-metrics.js';
import { gatewayHealth } from './health.js';
import { renderMetrics } from './metrics-text.js';

/** How the admin GUI came up: its URL, or why it did not (the gateway runs without it). */
export type GuiStartState = { url: string } | { error: string };

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

export interface RunGatewayOptions {
  /** The committed version `config` is (for `status`); read from the store when absent. */
  version?: number;
}

export async function runGateway(layout: HomeLayout, config: Config, onStarted: (listeners: BoundListener[], gui: GuiStartState) => void, options: RunGatewayOptions = {}): Promise<void> {
  const other = runningGatewayPid(layout);
  if (other !== null && other !== process.pid) throw new UserError(`a gateway is already running on ${layout.root} (pid ${other}); stop it with "gatehouse stop"`);
  const store = new ConfigStore(layout);
  let runningVersion = options.version ?? store.committed().version;
  const startedAt = new Date();
  const gateway = new Gateway({ layout, config });
  const metrics = new GatewayMetrics(gateway, startedAt.getTime());
  const bound = await gateway.start();

  let stopping = false;
  let control: ControlServer | undefined;
  let gui: GuiServer | undefined;
  const stop = async (reason: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${reason}: stopping (open sessions may finish for ${gateway.currentConfig.smtp.shutdownGraceSeconds} s)\n`);
    try {
      await control?.close();
      await gui?.stop();
      await gateway.stop();
    } finally {
      fs.rmSync(layout.pidFile, { force: true });
    }
    process.exit(0);
  };

  let applying: Promise<unknown> = Promise.resolve();
  /** Applies the newest committed version; calls queue up so two applies never overlap. */
  const applyCommitted = (command: 'commit' | 'reload'): Promise<ControlResponse> => {
    const run = async (): Promise<ControlResponse> => {
      if (stopping) return { ok: false, error: 'the gateway is stopping' };
      if (command === 'reload') await gateway.reopenLogs();
      const committed = store.committed();
      const v = validateConfig(committed.config);
      if (!v.ok) return { ok: false, error: `configuration version ${committed.version} is invalid`, errors: v.errors };
      try {
        await gateway.apply(v.config);
      } catch (err) {
        return { ok: false, error: `configuration version ${committed.version} could not be applied: ${errorMessage(err)}` };
      }
      runningVersion = committed.version;
      await gui?.apply(v.config).catch((err: unknown) => process.stderr.write(`GUI: ${errorMessage(err)}\n`));
      process.stdout.write(`${command === 'reload' ? 'Reloaded' : 'Applied'} configuration version ${committed.version}\n`);
      return { ok: true, command, version: committed.version, pid: process.pid };
    };
    const result = applying.then(run, run);
    applying = result.catch(() => undefined);
    return result;
  };

  fs.mkdirSync(layout.runDir, { recursive: true, mode: 0o700 });
  try {
    control = await ControlServer.listen(layout.controlSocket, {
      apply: applyCommitted,
      status: () => ({
        ok: true,
        command: 'status',
        status: {
          pid: process.pid,
          home: layout.root,
          startedAt: startedAt.toISOString(),
          uptimeSeconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
          version: runningVersion,
          committedVersion: store.versionNumbers().at(-1) ?? runningVersion,
          hostname: gateway.currentConfig.hostname,
          listeners: gateway.listenerStatus(),
          openSessions: gateway.openConnections,
          spool: { messages: gateway.spoolStore.size() },
          syslog: gateway.syslogStats(),
        },
      }),
      stop: () => void stop('Stop requested'),
      queue: (request) => runQueueRequest(gateway.delivery, request),
    });
  } catch (err) {
    await gateway.stop(0);
    throw err;
  }
  let guiState: GuiStartState;
  try {
    gui = await GuiServer.start(
      {
        home: { layout, store },
        runningConfig: () => gateway.currentConfig,
        applyCommitted: async () => {
          const r = await applyCommitted('commit');
          if (r.ok) return { ok: true, version: 'version' in r && typeof r.version === 'number' ? r.version : store.committed().version };
          return { ok: false, error: r.errors && r.errors.length > 0 ? `${r.error}: ${r.errors.join('; ')}` : r.error };
        },
        systemLog: (text) => gateway.log.emit({ event: 'system', text }),
        operations: {
          health: () => gatewayHealth(gateway, startedAt.getTime()),
          metricsText: () => renderMetrics(metrics.collect()),
        },
      },
      config,
    );
    guiState = { url: gui.url };
  } catch (err) {
    guiState = { error: errorMessage(err) };
  }
  fs.writeFileSync(layout.pidFile, `${process.pid}\n`, { mode: 0o644 });
  onStarted(bound, guiState);

  const reload = async (): Promise<void> => {
    try {
      const r = await applyCommitted('reload');
      if (!r.ok) process.stderr.write(`reload refused: ${r.error}${r.errors ? `:\n  ${r.errors.join('\n  ')}` : ''}\n`);
    } catch (err) {
      process.stderr.write(`reload failed: ${errorMessage(err)}\n`);
    }
  };
  process.on('SIGTERM', () => void stop('Received SIGTERM'));
  process.on('SIGINT', () => void stop('Received SIGINT'));
  process.on('SIGHUP', () => void reload());
}
