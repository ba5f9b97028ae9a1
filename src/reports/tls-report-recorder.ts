/**
 * The running gateway's TLS report: a {@link TlsConnectionCounter} fed by the
 * mail-event tap, flushed to `<home>/state/tls-report/` every `flushMs`
 * (default 10 s, so `gatehouse report tls` lags a running gateway by at most
 * that) and at stop. A crash loses at most the last interval. Flushes never
 * overlap; a failed flush keeps its counts for the next one and is reported
 * once through `onError`.
 */
import { errorMessage } from '../core/errors.js';
import type { MailEvent } from '../logging/mail-events.js';
import { TlsConnectionCounter } from './tls-counters.js';
import { mergeIntoTlsReport, pruneTlsReport, tlsReportDir } from './tls-report-store.js';

export const DEFAULT_TLS_REPORT_FLUSH_MS = 10_000;

export interface TlsReportRecorderOptions {
  /** `<home>/state`. */
  stateDir: string;
  flushMs?: number;
  clock: { now(): number };
  /** A flush failed (the counts are kept and retried). */
  onError?: (message: string) => void;
}

export class TlsReportRecorder {
  readonly counter = new TlsConnectionCounter();
  readonly dir: string;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private failing = false;

  constructor(private readonly options: TlsReportRecorderOptions) {
    this.dir = tlsReportDir(options.stateDir);
  }

  /** The tap listener: `gateway.onMailEvent(recorder.listener)`. */
  readonly listener = (e: MailEvent, time: number): void => this.counter.observe(e, time);

  /** Starts periodic flushing and prunes old hour files. */
  start(): void {
    void pruneTlsReport(this.dir, this.options.clock.now()).catch(() => undefined);
    this.timer = setInterval(() => void this.flush(), this.options.flushMs ?? DEFAULT_TLS_REPORT_FLUSH_MS);
    this.timer.unref();
  }

  /** Writes the counts gathered so far; resolves when they are on disk (or kept after a failure). Never rejects. */
  flush(): Promise<void> {
    const run = async (): Promise<void> => {
      if (!this.counter.dirty) return;
      // Hour by hour, so a failure puts back only the hours that were not written.
      for (const [hour, counts] of this.counter.takeDelta()) {
        const one = new Map([[hour, counts]]);
        try {
          await mergeIntoTlsReport(this.dir, one);
          this.failing = false;
        } catch (err) {
          this.counter.restoreDelta(one);
          if (!this.failing) this.options.onError?.(`TLS report could not be saved in ${this.dir}: ${errorMessage(err)}`);
          this.failing = true;
        }
      }
    };
    this.flushing = this.flushing.then(run, run);
    return this.flushing;
  }

  /** Stops the timer and flushes what is left. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
