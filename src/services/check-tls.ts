/**
 * `checktls DOMAIN [--assure]` (SPEC §7), for the CLI and the GUI: for every
 * MX of the domain (from DNS, by preference; a domain without MX records is
 * its own MX at preference 0, as delivery treats it) the stages
 *
 *   answer (A/AAAA) · connect · ehlo · starttls · certificate (chain to the
 *   trust store, as sent) · secure (certificate and name verified against
 *   the domain and the MX host name) · [assure: plaintext MAIL FROM refused]
 *
 * each timed, and the confidence score of `verify/checktls-score.ts`. SMTP
 * routes are not used: checktls asks what the world's senders meet. The MX
 * hosts are checked one after another, each on its first address that
 * accepts a connection. `--assure` never sends a message: MAIL FROM, then
 * QUIT.
 */
import type { DnsResolver } from '../dns/resolver.js';
import type { ReferenceIdentifier } from '../smtp/outbound/next-hops.js';
import type { ClientTimeouts } from '../smtp/outbound/smtp-client.js';
import { domainScore, mxScore, preferenceRanks, type StageStatus } from '../verify/checktls-score.js';
import { StepRecorder, type VerifyStep } from '../verify/step-recorder.js';
import { checkPlaintextRefused, checkTlsSession, type SessionCheckResult } from '../verify/tls-session-check.js';
import { verifyContext } from '../verify/verify-context.js';
import type { Home } from './staging.js';
import { checkDomainName } from './tls-verify.js';
import { UserError } from '../core/errors.js';

export type CheckTlsStage = 'answer' | 'connect' | 'ehlo' | 'starttls' | 'certificate' | 'secure' | 'assure';
export const CHECKTLS_STAGES: readonly CheckTlsStage[] = ['answer', 'connect', 'ehlo', 'starttls', 'certificate', 'secure'];

export interface CheckTlsInput {
  domain: string;
  assure?: boolean;
  /** Port of every MX (default 25). */
  port?: number;
}

/** A step of one MX's check, for live display. */
export type CheckTlsStep = VerifyStep & { mx: string };

export interface CheckTlsOptions {
  onStep?: (step: CheckTlsStep) => void;
  resolver?: DnsResolver;
  now?: Date;
  timeouts?: Partial<ClientTimeouts>;
}

export interface StageOutcome {
  stage: CheckTlsStage;
  status: StageStatus;
  /** Null when the stage did not run. */
  ms: number | null;
}

export interface MxCheck {
  host: string;
  preference: number;
  rank: number;
  addresses: string[];
  /** The address checked (the first that accepted a connection), or null. */
  ip: string | null;
  stages: StageOutcome[];
  /** 0–100, rounded. */
  score: number;
  /** The first failure in `tlsverify` words, or null. */
  failure: string | null;
  protocol: string | null;
  cipher: string | null;
  chainSource: SessionCheckResult['chainSource'];
  identifier: SessionCheckResult['identifier'];
  /** The reply to the plaintext MAIL FROM (`--assure`). */
  assure: { refused: boolean; detail: string } | null;
  steps: VerifyStep[];
}

export interface CheckTlsResult {
  domain: string;
  assure: boolean;
  port: number;
  /** Domain confidence 0–100, rounded (exact in `scoreExact`). */
  score: number;
  scoreExact: number;
  mx: MxCheck[];
}

type MxLookup = { exchange: string; priority: number }[];

async function lookupMx(domain: string, resolver: DnsResolver): Promise<MxLookup> {
  try {
    const mx = await resolver.resolveMx(domain);
    if (mx.some((r) => r.exchange === '' || r.exchange === '.')) throw new UserError(`${domain} does not accept mail (null MX)`);
    if (mx.length > 0) return mx.map((r) => ({ exchange: r.exchange.toLowerCase().replace(/\.$/, ''), priority: r.priority }));
  } catch (err) {
    if (err instanceof UserError) throw err;
    const code = String((err as { code?: unknown }).code ?? 'error');
    if (code === 'ENOTFOUND') throw new UserError(`${domain} does not exist (NXDOMAIN)`);
    if (code !== 'ENODATA') throw new UserError(`DNS lookup of MX ${domain} failed: ${code}`);
  }
  return [{ exchange: domain, priority: 0 }];
}

async function addresses(name: string, resolver: DnsResolver): Promise<string[]> {
  const settle = async (f: () => Promise<string[]>): Promise<string[]> => {
    try {
      return await f();
    } catch {
      return [];
    }
  };
  const [v4, v6] = await Promise.all([settle(() => resolver.resolve4(name)), settle(() => resolver.resolve6(name))]);
  return [...v4, ...v6];
}

/** Runs `checktls`. Throws UserError for bad input and for a domain DNS says takes no mail. */
export async function runCheckTls(home: Home, input: CheckTlsInput, options: CheckTlsOptions = {}): Promise<CheckTlsResult> {
  const domain = checkDomainName(input.domain, 'domain');
  const port = input.port ?? 25;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UserError(`port must be 1-65535, got ${port}`, 2);
  const assure = input.assure === true;
  const config = home.store.committed().config;
  const ctx = await verifyContext(config, home.layout, options);
  const records = (await lookupMx(domain, ctx.resolver)).sort((a, b) => a.priority - b.priority || a.exchange.localeCompare(b.exchange));
  const ranks = preferenceRanks(records.map((r) => r.priority));
  const stageNames: CheckTlsStage[] = assure ? [...CHECKTLS_STAGES, 'assure'] : [...CHECKTLS_STAGES];
  const mx: MxCheck[] = [];

  for (const [i, record] of records.entries()) {
    const host = record.exchange;
    const rec = new StepRecorder((s) => options.onStep?.({ ...s, mx: host }));
    const outcome = new Map<CheckTlsStage, StageOutcome>(stageNames.map((s) => [s, { stage: s, status: 'not-run', ms: null }]));
    const set = (stage: CheckTlsStage, passed: boolean, ms: number): void => {
      outcome.set(stage, { stage, status: passed ? 'pass' : 'fail', ms });
    };
    const check: MxCheck = {
      host,
      preference: record.priority,
      rank: ranks[i]!,
      addresses: [],
      ip: null,
      stages: [],
      score: 0,
      failure: null,
      protocol: null,
      cipher: null,
      chainSource: null,
      identifier: null,
      assure: null,
      steps: rec.steps,
    };
    const t0 = performance.now();
    check.addresses = await addresses(host, ctx.resolver);
    set('answer', check.addresses.length > 0, Math.round(performance.now() - t0));
    rec.add('resolve', `MX ${host} (preference ${record.priority}): ${check.addresses.length > 0 ? check.addresses.join(', ') : 'no address'}.`, check.addresses.length > 0 ? 'info' : 'fail');
    if (check.addresses.length === 0) check.failure = `no address for ${host}`;

    const identifiers: ReferenceIdentifier[] = [{ name: domain, source: 'recipient-domain', weak: false }];
    if (host !== domain) identifiers.push({ name: host, source: 'mx-host', weak: true });
    let session: SessionCheckResult | null = null;
    for (const ip of check.addresses) {
      const target = { host, ip, port, servername: host, identifiers };
      session = await checkTlsSession(target, { ehloName: ctx.ehloName, tlsOptions: ctx.tlsOptions, anchors: ctx.anchors, timeouts: ctx.timeouts, sourceAddresses: ctx.sourceAddresses, now: options.now ?? new Date(), recorder: rec });
      if (session.stages.some((s) => s.stage === 'connect' && s.passed)) {
        check.ip = ip;
        break;
      }
    }
    if (session) {
      for (const s of session.stages) set(s.stage, s.passed, s.ms);
      check.failure = session.reason;
      check.protocol = session.protocol;
      check.cipher = session.cipher;
      check.chainSource = session.chainSource;
      check.identifier = session.identifier;
      rec.add(session.verified ? 'completed' : 'failed', session.verified ? 'TLS verification completed.' : `TLS verification failed: ${session.reason ?? 'unknown'}`, session.verified ? 'ok' : 'fail');
    }
    if (assure && check.ip !== null) {
      const a = await checkPlaintextRefused({ host, ip: check.ip, port, servername: host, identifiers }, { ehloName: ctx.ehloName, sender: `postmaster@${ctx.ehloName}`, timeouts: ctx.timeouts, sourceAddresses: ctx.sourceAddresses, recorder: rec });
      check.assure = { refused: a.refused, detail: a.detail };
      set('assure', a.refused, a.ms);
    }
    check.stages = stageNames.map((s) => outcome.get(s)!);
    check.score = Math.round(mxScore(check.stages));
    mx.push(check);
  }
  const exact = domainScore(mx.map((m) => ({ preference: m.preference, score: mxScore(m.stages) })));
  return { domain, assure, port, score: Math.round(exact), scoreExact: exact, mx };
}
