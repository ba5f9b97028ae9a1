/**
 * Editing the mail log's syslog forwarding (`logconfig edit`, SPEC §9) as a
 * pure function over a draft: target on/off, facility, tag, queue size.
 * Refusals are one line saying what to write instead.
 */
import { UserError } from '../core/errors.js';
import type { Config } from '../config/schema.js';
import { formatSyslogTarget, parseSyslogTarget, SYSLOG_FACILITIES, SYSLOG_TAG_RE, SYSLOG_TAG_RULE, type SyslogFacility } from '../config/syslog-settings.js';

export type SyslogSettings = Config['logging']['mailLog']['syslog'];

export interface SyslogChanges {
  /** `udp:HOST:PORT`, `tcp:HOST:PORT`, or `off`. */
  target?: string | undefined;
  facility?: string | undefined;
  tag?: string | undefined;
  queueLines?: number | undefined;
}

/** The stored target for `input`: null for `off` (or empty), else the canonical `udp|tcp:HOST:PORT`. */
export function toSyslogTarget(input: string): string | null {
  const t = input.trim();
  if (t === '' || /^(off|none)$/i.test(t)) return null;
  try {
    return formatSyslogTarget(parseSyslogTarget(t));
  } catch (err) {
    throw new UserError(`syslog target ${err instanceof Error ? err.message : String(err)}`);
  }
}

export function toSyslogFacility(input: string): SyslogFacility {
  const f = input.trim().toLowerCase();
  if (!(SYSLOG_FACILITIES as readonly string[]).includes(f)) throw new UserError(`syslog facility "${input}" is not one of ${SYSLOG_FACILITIES.join(', ')}`);
  return f as SyslogFacility;
}

export function editSyslog(draft: Config, changes: SyslogChanges): SyslogSettings {
  const s = draft.logging.mailLog.syslog;
  if (changes.target !== undefined) s.target = toSyslogTarget(changes.target);
  if (changes.facility !== undefined) s.facility = toSyslogFacility(changes.facility);
  if (changes.tag !== undefined) {
    const tag = changes.tag.trim();
    if (!SYSLOG_TAG_RE.test(tag)) throw new UserError(`syslog tag "${changes.tag}" ${SYSLOG_TAG_RULE}`);
    s.tag = tag;
  }
  if (changes.queueLines !== undefined) s.queueLines = changes.queueLines;
  return s;
}

/** One sentence describing the forwarding, for the CLI and the GUI. */
export function describeSyslog(s: SyslogSettings): string {
  return s.target === null ? 'Syslog forwarding is off' : `Mail log lines go to syslog ${s.target} (facility ${s.facility}, tag ${s.tag})`;
}
