/**
 * One TLS check of one next hop, shared by `tlsverify` and `checktls`
 * (SPEC §7): connect, greeting, EHLO, STARTTLS, handshake (Node, with the
 * home's trust list and `rejectUnauthorized: false`), then the chain as sent
 * (TLS 1.2 probe on a second connection; Node's rebuilt chain when the server
 * speaks TLS 1.3 only or the probe fails, which the steps say), the chain
 * analysis and the name check. Every step goes to the recorder in the SPEC's
 * words; each stage is timed; the first failure gives the reason.
 *
 * Also the `--assure` check of `checktls`: a plaintext session whose MAIL FROM
 * must be refused (mandatory TLS). Nothing is ever sent beyond MAIL FROM: the
 * session ends with QUIT whatever the reply.
 */
import crypto from 'node:crypto';
import tls from 'node:tls';
import type { ReferenceIdentifier } from '../smtp/outbound/next-hops.js';
import { SmtpClient, SmtpClientError, TlsHandshakeError, formatReply, type ClientTimeouts, type ConnectOptions } from '../smtp/outbound/smtp-client.js';
import { sourceAddressFor, type SourceAddresses } from '../smtp/outbound/source-address.js';
import { analyseChain, chainFailureText, oneLineName, parseCertificates } from './chain-analysis.js';
import { checkNames, identifierText, nameMismatchText } from './name-check.js';
import type { StepRecorder } from './step-recorder.js';
import { probeCertificateChain } from './tls12-certificate-probe.js';

export interface SessionTarget {
  /** The name the hop was found by (or the IP). */
  host: string;
  ip: string;
  port: number;
  /** SNI; null for an IP (never an IP as SNI). */
  servername: string | null;
  identifiers: readonly ReferenceIdentifier[];
}

export interface SessionCheckOptions {
  ehloName: string;
  /** Trust list (`ca`), minVersion, ciphers for the handshake. */
  tlsOptions: tls.ConnectionOptions;
  /** The same trust list, parsed, for the chain analysis. */
  anchors: readonly crypto.X509Certificate[];
  timeouts: ClientTimeouts;
  /** Connect from the delivery source address of the target's family (none: the OS chooses). */
  sourceAddresses?: SourceAddresses;
  now: Date;
  recorder: StepRecorder;
}

/** The `SmtpClient.connect` options for a target: its address, and the source address delivery would use. */
function connectTo(ip: string, port: number, timeouts: ClientTimeouts, sourceAddresses: SourceAddresses | undefined): ConnectOptions {
  return { ip, port, timeouts, localAddress: sourceAddresses ? sourceAddressFor(ip, sourceAddresses) : null };
}

export type SessionStage = 'connect' | 'ehlo' | 'starttls' | 'certificate' | 'secure';
export const SESSION_STAGES: readonly SessionStage[] = ['connect', 'ehlo', 'starttls', 'certificate', 'secure'];

export interface StageTiming {
  stage: SessionStage;
  passed: boolean;
  ms: number;
}

export interface ChainEntry {
  subject: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
  fingerprint256: string;
}

export interface SessionCheckResult {
  /** Stages reached, in order (a failed stage ends the list). */
  stages: StageTiming[];
  verified: boolean;
  /** The `<reason>` of `TLS verification failed: <reason>`, null when verified. */
  reason: string | null;
  localAddress: string | null;
  protocol: string | null;
  cipher: string | null;
  /** Where the analysed chain came from. */
  chainSource: 'tls12-probe' | 'tls-library' | null;
  chain: ChainEntry[];
  identifier: { name: string; source: ReferenceIdentifier['source']; weak: boolean } | null;
  tried: string[];
  presented: string[];
}

function entry(c: crypto.X509Certificate): ChainEntry {
  return { subject: oneLineName(c.subject), issuer: oneLineName(c.issuer), notBefore: c.validFrom, notAfter: c.validTo, fingerprint256: c.fingerprint256 };
}

/** The chain Node rebuilt (leaf first, each issuer once, stopping at a self-issued root). */
function libraryChain(socket: tls.TLSSocket): crypto.X509Certificate[] {
  const out: crypto.X509Certificate[] = [];
  const seen = new Set<string>();
  let c: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  while (c && c.raw && !seen.has(c.fingerprint256) && out.length < 16) {
    seen.add(c.fingerprint256);
    out.push(...parseCertificates([c.raw]));
    c = c.issuerCertificate;
  }
  return out;
}

/** The reason part of OpenSSL's error text: `error:0A00010B:SSL routines::wrong version number` → `wrong version number`. */
export function handshakeAlert(message: string): string {
  const m = /error:[0-9A-Fa-f]{8}:[^:]*:[^:]*:(.+)$/.exec(message);
  return (m?.[1] ?? message).trim();
}

/** Whether the sent certificates that are on the path come in path order (leaf, its issuer, that one's issuer...). */
function inIssuingOrder(sent: readonly crypto.X509Certificate[], path: readonly crypto.X509Certificate[]): boolean {
  const onPath = path.slice(1);
  const given = sent.slice(1).filter((c) => onPath.some((p) => p.raw.equals(c.raw)));
  return given.every((c, i) => onPath[i]?.raw.equals(c.raw) === true);
}

class Stopwatch {
  private t = performance.now();
  lap(): number {
    const now = performance.now();
    const ms = Math.round(now - this.t);
    this.t = now;
    return ms;
  }
}

/** Runs the check; never throws for anything the peer does. */
export async function checkTlsSession(target: SessionTarget, o: SessionCheckOptions): Promise<SessionCheckResult> {
  const rec = o.recorder;
  const result: SessionCheckResult = {
    stages: [],
    verified: false,
    reason: null,
    localAddress: null,
    protocol: null,
    cipher: null,
    chainSource: null,
    chain: [],
    identifier: null,
    tried: target.identifiers.map((i) => i.name),
    presented: [],
  };
  const watch = new Stopwatch();
  const stage = (s: SessionStage, passed: boolean): void => {
    result.stages.push({ stage: s, passed, ms: watch.lap() });
  };
  const fail = (s: SessionStage, reason: string): SessionCheckResult => {
    stage(s, false);
    result.reason = reason;
    return result;
  };

  rec.add('connecting', `Connecting to ${target.ip} on port ${target.port}.`);
  let client: SmtpClient;
  try {
    client = await SmtpClient.connect(connectTo(target.ip, target.port, o.timeouts, o.sourceAddresses));
  } catch (err) {
    return fail('connect', `connection failed: ${(err as Error).message}`);
  }
  result.localAddress = client.localAddress;
  stage('connect', true);
  rec.add('connected', `Connected to ${target.ip} from interface ${client.localAddress}.`, 'ok');

  let peer: crypto.X509Certificate[] = [];
  let authorized = false;
  let authorizationError = '';
  try {
    const greeting = await client.greeting();
    if (greeting.code !== 220) return fail('ehlo', `greeting refused: ${formatReply(greeting)}`);
    const hello = await client.hello(o.ehloName);
    if (hello.reply.code !== 250) return fail('ehlo', `EHLO refused: ${formatReply(hello.reply)}`);
    stage('ehlo', true);
    rec.add('checking-tls', 'Checking TLS connection.');
    if (!hello.caps.starttls) return fail('starttls', 'STARTTLS not offered');
    let started: Awaited<ReturnType<SmtpClient['startTls']>>;
    try {
      started = await client.startTls({
        ...o.tlsOptions,
        rejectUnauthorized: false,
        checkServerIdentity: () => undefined,
        ...(target.servername ? { servername: target.servername } : {}),
      });
    } catch (err) {
      if (err instanceof TlsHandshakeError) return fail('starttls', `handshake failed: ${handshakeAlert(err.message)}`);
      throw err;
    }
    if ('refused' in started) return fail('starttls', `STARTTLS refused: ${formatReply(started.refused)}`);
    stage('starttls', true);
    result.protocol = started.info.protocol;
    result.cipher = started.info.cipher;
    rec.add('tls-established', `TLS connection established: protocol ${started.info.protocol}, cipher ${started.info.cipher}.`, 'ok');
    peer = libraryChain(started.socket);
    authorized = started.socket.authorized;
    const ae = started.socket.authorizationError as unknown;
    authorizationError = typeof ae === 'string' ? ae : String((ae as { code?: unknown } | null)?.code ?? (ae as Error | null)?.message ?? '');
  } catch (err) {
    const current = SESSION_STAGES[result.stages.length] ?? 'ehlo';
    const message = err instanceof SmtpClientError ? err.message : String(err);
    client.destroy();
    return fail(current, `connection failed: ${message}`);
  } finally {
    // Done with this connection whatever happened (QUIT when it is still usable).
    if (!client.isBroken) await client.quit();
    else client.destroy();
  }

  rec.add('verifying', 'Verifying peer certificate.');
  let sent: crypto.X509Certificate[] = peer;
  result.chainSource = 'tls-library';
  let probe = await probeCertificateChain({ ...connectTo(target.ip, target.port, o.timeouts, o.sourceAddresses), ehloName: o.ehloName, servername: target.servername });
  if (probe.kind === 'chain' && parseCertificates(probe.certificates).length !== probe.certificates.length) {
    probe = { kind: 'failed', reason: 'a certificate in the Certificate message does not parse' };
  }
  if (probe.kind === 'chain') {
    sent = parseCertificates(probe.certificates);
    result.chainSource = 'tls12-probe';
    rec.add('probe', `Certificate chain as sent (TLS 1.2 probe): ${sent.length} certificate${sent.length === 1 ? '' : 's'}.`);
  } else if (probe.kind === 'tls13-only') {
    rec.add('probe', 'TLS 1.2 probe refused: the server speaks TLS 1.3 only; checking the chain as the TLS library rebuilt it (duplicates and order are not visible).');
  } else {
    rec.add('probe', `TLS 1.2 probe failed (${probe.reason}); checking the chain as the TLS library rebuilt it (duplicates and order are not visible).`);
  }
  sent.forEach((c, i) => rec.add('chain-certificate', `  ${i}: ${oneLineName(c.subject)} (issuer ${oneLineName(c.issuer)})`));
  result.chain = sent.map(entry);

  const verdict = analyseChain(sent, o.anchors, o.now);
  if (!verdict.ok) return fail('certificate', chainFailureText(verdict.failure));
  if (!authorized) return fail('certificate', `certificate not trusted: ${authorizationError || 'rejected by the TLS library'}`);
  stage('certificate', true);
  rec.add('chain', `Certificate chain verified: issued by trusted CA ${oneLineName(verdict.anchor.subject)}.`, 'ok');
  if (result.chainSource === 'tls12-probe' && !inIssuingOrder(sent, verdict.path)) {
    rec.add('chain', 'Note: the intermediates are not sent in issuing order (TLS 1.2 requires it; strict verifiers fail on it).');
  }

  const leaf = sent[0]!;
  rec.add('name', `Verifying certificate name against ${result.tried.join(', ') || '(no identifiers)'}.`);
  const names = checkNames(leaf, target.identifiers);
  result.presented = names.presented;
  if (!names.ok) return fail('secure', nameMismatchText(names.tried, names.presented));
  result.identifier = { name: names.identifier.name, source: names.identifier.source, weak: names.identifier.weak };
  stage('secure', true);
  rec.add('name', `TLS certificate match ${identifierText(names.identifier)}.`, 'ok');
  rec.add('name', 'TLS certificate verified.', 'ok');
  result.verified = true;
  return result;
}

export interface AssureResult {
  /** True when the plaintext MAIL FROM was refused (TLS is mandatory). */
  refused: boolean;
  /** What happened: the MAIL reply, or why the session did not get that far. */
  detail: string;
  ms: number;
}

/**
 * The `--assure` session: plaintext EHLO, `MAIL FROM:<sender>`, then QUIT.
 * Never RCPT, never DATA: no message can be sent.
 */
export async function checkPlaintextRefused(
  target: SessionTarget,
  o: { ehloName: string; sender: string; timeouts: ClientTimeouts; sourceAddresses?: SourceAddresses; recorder: StepRecorder },
): Promise<AssureResult> {
  const watch = new Stopwatch();
  let client: SmtpClient;
  try {
    client = await SmtpClient.connect(connectTo(target.ip, target.port, o.timeouts, o.sourceAddresses));
  } catch (err) {
    return { refused: false, detail: `connection failed: ${(err as Error).message}`, ms: watch.lap() };
  }
  try {
    const greeting = await client.greeting();
    if (greeting.code !== 220) return { refused: false, detail: `greeting refused: ${formatReply(greeting)}`, ms: watch.lap() };
    const hello = await client.hello(o.ehloName);
    if (hello.reply.code !== 250) return { refused: false, detail: `EHLO refused: ${formatReply(hello.reply)}`, ms: watch.lap() };
    const mail = await client.command(`MAIL FROM:<${o.sender}>`);
    const refused = mail.code >= 400;
    o.recorder.add('assure', `Plaintext MAIL FROM to ${target.ip}: ${formatReply(mail)} (${refused ? 'refused: TLS is mandatory' : 'accepted: TLS is not mandatory'}).`, refused ? 'ok' : 'fail');
    return { refused, detail: formatReply(mail), ms: watch.lap() };
  } catch (err) {
    return { refused: false, detail: `connection failed: ${err instanceof SmtpClientError ? err.message : String(err)}`, ms: watch.lap() };
  } finally {
    await client.quit();
  }
}
