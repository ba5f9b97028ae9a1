/**
 * The settings of syslog forwarding of the mail log (SPEC §9, `logging.mailLog.syslog`):
 * where to send (`udp:HOST:PORT` / `tcp:HOST:PORT`), which facility, which tag.
 * Kept here, beside the schema, because both the schema (validation) and the
 * sender in `logging/` read them.
 *
 * HOST must be an IP address: a name would need a DNS lookup on every reconnect
 * (and a resolver failure would silently stop the log). The local Unix socket
 * `/dev/log` is not offered: Node cannot send datagrams to a Unix socket without
 * a native module.
 */
import net from 'node:net';

export type SyslogTransport = 'udp' | 'tcp';

/** A parsed `udp:HOST:PORT` / `tcp:HOST:PORT`; `host` has no brackets. */
export interface SyslogTarget {
  transport: SyslogTransport;
  host: string;
  port: number;
}

/** Facility names accepted, with their RFC 5424 §6.2.1 codes (PRI = facility × 8 + severity). */
export const SYSLOG_FACILITY_CODES = {
  mail: 2,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
} as const;
export type SyslogFacility = keyof typeof SYSLOG_FACILITY_CODES;
export const SYSLOG_FACILITIES = Object.keys(SYSLOG_FACILITY_CODES) as [SyslogFacility, ...SyslogFacility[]];

/** RFC 3164 §4.1.3: the TAG is at most 32 alphanumeric characters; `_ . / -` are accepted as daemons use them. */
export const SYSLOG_TAG_RE = /^[A-Za-z0-9_./-]{1,32}$/;
export const SYSLOG_TAG_RULE = 'must be 1-32 letters, digits, _ . / or - (e.g. mail_logs)';

const TARGET_FORM = 'write udp:HOST:PORT or tcp:HOST:PORT with HOST an IP address (IPv6 in brackets), e.g. udp:192.0.2.10:514 or tcp:[::1]:6514';

/** Why `s` is not a usable target, or null when it is. */
export function syslogTargetProblem(s: string): string | null {
  try {
    parseSyslogTarget(s);
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** Parses `udp:HOST:PORT` / `tcp:HOST:PORT`; throws an Error whose message says what is wrong and the form to write. */
export function parseSyslogTarget(s: string): SyslogTarget {
  const m = /^([A-Za-z0-9]+):(?:\[([^\]]*)\]|([^:[\]]*)):([^:]*)$/.exec(s.trim());
  if (!m) {
    if (s.trim().startsWith('/') || /^unix:/i.test(s.trim())) throw new Error(`"${s}": a Unix socket such as /dev/log is not supported (Node cannot send to it); ${TARGET_FORM}`);
    const bare = /^[A-Za-z0-9]+:(.*):[^:]*$/.exec(s.trim());
    if (bare && net.isIPv6(bare[1]!)) throw new Error(`"${s}": an IPv6 address must be in brackets; ${TARGET_FORM}`);
    throw new Error(`"${s}" is not a syslog target: ${TARGET_FORM}`);
  }
  const transport = m[1]!.toLowerCase();
  if (transport !== 'udp' && transport !== 'tcp') throw new Error(`"${s}": the transport must be udp or tcp, not ${m[1]}; ${TARGET_FORM}`);
  const bracketed = m[2];
  const host = bracketed ?? m[3]!;
  if (bracketed !== undefined ? net.isIPv6(host) === false : net.isIPv4(host) === false) {
    const why = host === '' ? 'the host is empty' : `${host} is not an ${bracketed === undefined ? 'IPv4' : 'IPv6'} address (host names are not accepted)`;
    throw new Error(`"${s}": ${why}; ${TARGET_FORM}`);
  }
  const portText = m[4]!;
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 1 && port <= 65535)) throw new Error(`"${s}": the port must be 1-65535; ${TARGET_FORM}`);
  return { transport, host, port };
}

/** The canonical text of a target (lower-case transport, IPv6 in brackets). */
export function formatSyslogTarget(t: SyslogTarget): string {
  return `${t.transport}:${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
}
