/**
 * `tlsverify DOMAIN [HOST[:PORT]]` (SPEC §7), for the CLI and the GUI: finds
 * the next hop (the given host; else the SMTP route, else MX, else A/AAAA, as
 * delivery does — `smtp/outbound/next-hops.ts`), connects, EHLO, STARTTLS,
 * verifies the chain as sent and the name against the delivery identifiers
 * (recipient domain, MX host name, route host name or IP), and reports every
 * step through `onStep` as it happens. The last step is
 * `TLS verification completed.` or `TLS verification failed: <reason>`.
 *
 * When a host does not accept the connection the next one is tried, as
 * delivery would; the verdict is that of the first host that answered.
 */
import net from 'node:net';
import type { Config } from '../config/schema.js';
import { UserError } from '../core/errors.js';
import type { DnsResolver } from '../dns/resolver.js';
import { compileDestinationControls } from '../policy/destination-controls.js';
import { resolveNextHops, type NextHop, type ReferenceIdentifier } from '../smtp/outbound/next-hops.js';
import type { ClientTimeouts } from '../smtp/outbound/smtp-client.js';
import { StepRecorder, type VerifyStep } from '../verify/step-recorder.js';
import { checkTlsSession, type SessionCheckResult, type SessionTarget } from '../verify/tls-session-check.js';
import { verifyContext } from '../verify/verify-context.js';
import type { Home } from './staging.js';

export interface TlsVerifyInput {
  domain: string;
  /** Connect to this host (name or IP) instead of resolving the domain. */
  host?: string;
  /** Port (default 25), for `host` or for every resolved MX host. */
  port?: number;
}

export interface TlsVerifyOptions {
  onStep?: (step: VerifyStep) => void;
  resolver?: DnsResolver;
  now?: Date;
  timeouts?: Partial<ClientTimeouts>;
}

export interface TlsVerifyResult {
  domain: string;
  verified: boolean;
  /** Null when verified. */
  reason: string | null;
  /** The host that answered (or the last one tried). */
  target: { host: string; ip: string; port: number; via: 'given' | NextHop['via'] } | null;
  session: Omit<SessionCheckResult, 'verified' | 'reason'> | null;
  steps: VerifyStep[];
}

const DOMAIN = /^(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)*\.?$/;

/** Checks the shape of a domain or host name (usage error, exit 2, otherwise). */
export function checkDomainName(name: string, what: string): string {
  const d = name.trim().toLowerCase().replace(/\.$/, '');
  if (!DOMAIN.test(d)) throw new UserError(`${what} "${name}" is not a domain name`, 2);
  return d;
}

function checkPort(port: number | undefined): number {
  if (port === undefined) return 25;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UserError(`port must be 1-65535, got ${port}`, 2);
  return port;
}

interface Candidate {
  target: SessionTarget;
  via: 'given' | NextHop['via'];
}

async function addressesOf(name: string, resolver: DnsResolver): Promise<{ ips: string[]; error: string | null }> {
  const settle = async (f: () => Promise<string[]>): Promise<{ ips: string[]; code: string | null }> => {
    try {
      return { ips: await f(), code: null };
    } catch (err) {
      return { ips: [], code: String((err as { code?: unknown }).code ?? 'error') };
    }
  };
  const [v4, v6] = await Promise.all([settle(() => resolver.resolve4(name)), settle(() => resolver.resolve6(name))]);
  const ips = [...v4.ips, ...v6.ips];
  return { ips, error: ips.length > 0 ? null : (v4.code ?? v6.code ?? 'no address') };
}

/** The hosts to try, with the reference identifiers delivery would use; or why there are none. */
async function candidates(domain: string, input: TlsVerifyInput, port: number, resolver: DnsResolver, config: Config, rec: StepRecorder): Promise<Candidate[] | string> {
  const domainId: ReferenceIdentifier = { name: domain, source: 'recipient-domain', weak: false };
  if (input.host !== undefined) {
    const raw = input.host.trim().replace(/^\[(.*)\]$/, '$1');
    if (net.isIP(raw) !== 0) {
      return [{ via: 'given', target: { host: raw, ip: raw, port, servername: null, identifiers: [domainId, { name: raw, source: 'route-ip', weak: false }] } }];
    }
    const host = checkDomainName(raw, 'host');
    const a = await addressesOf(host, resolver);
    if (a.ips.length === 0) return `no address for ${host} (${a.error ?? 'no address'})`;
    rec.add('resolve', `Host ${host} has address${a.ips.length === 1 ? '' : 'es'} ${a.ips.join(', ')}.`);
    return a.ips.map((ip) => ({ via: 'given' as const, target: { host, ip, port, servername: host, identifiers: [domainId, { name: host, source: 'route-host' as const, weak: false }] } }));
  }
  const policy = compileDestinationControls(config.destinationControls).forDomain(domain);
  const hops = await resolveNextHops(domain, { routes: config.smtpRoutes, resolver, ipPreference: policy.settings.ipPreference });
  if (hops.kind !== 'hops') return `no next hop for ${domain}: ${hops.reply.lines.join(' ')}`;
  const via = { mx: 'MX', route: `SMTP route ${hops.route ?? ''}`.trim(), address: 'address record' } as const;
  for (const h of hops.hops) rec.add('resolve', `Next hop for ${domain}: ${h.host} (${via[h.via]}) at ${h.ip} port ${input.port !== undefined && h.via !== 'route' ? port : h.port}.`);
  // A port given without a host replaces port 25 of MX and address hops (a test rig, a submission port); routes keep theirs.
  return hops.hops.map((h) => ({ via: h.via, target: { host: h.host, ip: h.ip, port: input.port !== undefined && h.via !== 'route' ? port : h.port, servername: h.servername, identifiers: h.identifiers } }));
}

/** Runs `tlsverify`. Throws UserError only for bad input; everything the network does is in the result. */
export async function runTlsVerify(home: Home, input: TlsVerifyInput, options: TlsVerifyOptions = {}): Promise<TlsVerifyResult> {
  const domain = checkDomainName(input.domain, 'domain');
  const port = checkPort(input.port);
  const config = home.store.committed().config;
  const ctx = await verifyContext(config, home.layout, options);
  const rec = new StepRecorder(options.onStep);
  const result: TlsVerifyResult = { domain, verified: false, reason: null, target: null, session: null, steps: rec.steps };
  const failed = (reason: string): TlsVerifyResult => {
    result.reason = reason;
    rec.add('failed', `TLS verification failed: ${reason}`, 'fail');
    return result;
  };

  const list = await candidates(domain, input, port, ctx.resolver, config, rec);
  if (typeof list === 'string') return failed(list);
  let last: SessionCheckResult | null = null;
  for (const c of list) {
    result.target = { host: c.target.host, ip: c.target.ip, port: c.target.port, via: c.via };
    last = await checkTlsSession(c.target, { ehloName: ctx.ehloName, tlsOptions: ctx.tlsOptions, anchors: ctx.anchors, timeouts: ctx.timeouts, sourceAddresses: ctx.sourceAddresses, now: options.now ?? new Date(), recorder: rec });
    const connected = last.stages.some((s) => s.stage === 'connect' && s.passed);
    if (connected) break;
    rec.add('connecting', `Could not connect to ${c.target.ip} port ${c.target.port}: ${last.reason ?? 'unknown error'}.`, 'fail');
  }
  if (!last) return failed(`no next hop for ${domain}`);
  const { verified, reason, ...session } = last;
  result.session = session;
  if (!verified) return failed(reason ?? 'unknown');
  result.verified = true;
  rec.add('completed', 'TLS verification completed.', 'ok');
  return result;
}
