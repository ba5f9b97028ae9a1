/**
 * A mail-log sink that also hands every event to in-process subscribers
 * (the TLS connections report, alert conditions). Subscribers run
 * synchronously after the line is queued for the log; one that throws is
 * reported once on the log and never stops the others.
 */
import { errorMessage } from '../core/errors.js';
import type { MailEvent, MailLogSink } from './mail-events.js';

export type MailEventListener = (e: MailEvent, time: number) => void;

export class MailEventTap implements MailLogSink {
  private readonly listeners = new Set<MailEventListener>();

  constructor(
    private readonly log: MailLogSink,
    private readonly clock: { now(): number },
  ) {}

  emit(e: MailEvent): void {
    this.log.emit(e);
    if (this.listeners.size === 0) return;
    const time = this.clock.now();
    for (const listener of this.listeners) {
      try {
        listener(e, time);
      } catch (err) {
        this.listeners.delete(listener);
        this.log.emit({ event: 'system', text: `mail event subscriber failed and was removed: ${errorMessage(err)}` });
      }
    }
  }

  /** Subscribes to every event; returns the function that unsubscribes. */
  subscribe(listener: MailEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
