import type { SmtpReply } from './smtp-reply.js';

/**
 * An error that crosses a module boundary with its SMTP meaning attached:
 * the reply to give, whether it is temporary, and which module raised it.
 * Anything that is not a GatehouseError is treated as temporary (4xx).
 */
export class SmtpError extends Error {
  constructor(
    readonly reply: SmtpReply,
    readonly source: string,
    message?: string,
  ) {
    super(message ?? reply.lines.join(' '));
    this.name = 'SmtpError';
  }

  get isTemporary(): boolean {
    return this.reply.code >= 400 && this.reply.code < 500;
  }
}

/** A user-facing error: one clear line, no stack trace. Exit code 1 (operation failed) or 2 (usage). */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** A configuration that failed validation; `issues` are path-qualified lines. */
export class ConfigError extends UserError {
  constructor(readonly issues: readonly string[]) {
    super(`invalid configuration:\n  ${issues.join('\n  ')}`, 1);
    this.name = 'ConfigError';
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
