/**
 * A fake authoritative DNS server on 127.0.0.1 (UDP and TCP on the same
 * ephemeral port), so no test ever sends a query off the machine (SPEC §5.1).
 * Point `dns.servers` (or `createResolver({ servers: [fake.server] })`) at it.
 *
 * Behaviour:
 * * names compare case-insensitively, a trailing dot is ignored;
 * * an unknown name → NXDOMAIN; a name that exists (or has names below it)
 *   without the asked type → NOERROR with no answer (NODATA);
 * * `rcode` forces NXDOMAIN/SERVFAIL for that name; `ad` sets the AD flag on
 *   answers for that name; `delayMs` holds the answer back (timeouts);
 *   `drop` never answers;
 * * `CNAME` is answered for any type and followed inside the zone;
 * * answers carry `ttl` (default 0, so resolver caches never hide `setZone`);
 *   no SOA is sent, so negative answers are not cached either;
 * * UDP answers larger than 512 bytes (or the EDNS size offered) are sent
 *   truncated (TC) so the client retries over TCP, where they are complete;
 * * `raw` sends hand-made bytes (malformed answers);
 * * zone data dns-packet would mangle (a bad address, a TXT string over 255
 *   bytes) makes `startFakeDns`/`setZone` throw; anything that still fails to
 *   encode is answered SERVFAIL and kept in `errors`;
 * * every question is recorded in `queries` (lower case, no trailing dot), in
 *   arrival order; clear it with `queries.length = 0`.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import * as dnsPacket from 'dns-packet';

/** The records of one name. Keys of `FakeZone` are lower-case names without a trailing dot. */
export interface FakeRecordSet {
  A?: string[];
  AAAA?: string[];
  MX?: { exchange: string; priority: number }[];
  PTR?: string[];
  TXT?: string[][];
  TLSA?: { usage: number; selector: number; matchingType: number; certificate: Buffer }[];
  /** An alias: answered for every type (with the target's records of that type when the target is in the zone). */
  CNAME?: string;
  rcode?: 'NXDOMAIN' | 'SERVFAIL';
  /** Set the AD (authenticated data) flag on responses for this name. */
  ad?: boolean;
  /** Hold the answer back this long (for timeout tests). */
  delayMs?: number;
  /** Never answer queries for this name. */
  drop?: boolean;
  /** TTL of the answers, default 0. */
  ttl?: number;
  /**
   * Full control (malformed-answer tests): the exact bytes to send for a query
   * of this name (the 2-byte TCP length is added), or null to send nothing.
   * `delayMs` still applies; the other fields are ignored.
   */
  raw?: (query: dnsPacket.DecodedPacket, transport: 'udp' | 'tcp') => Buffer | null;
}

export type FakeZone = Record<string, FakeRecordSet>;

/** A question the fake server received. */
export interface FakeDnsQuery {
  name: string;
  type: string;
  transport: 'udp' | 'tcp';
}

export interface FakeDns {
  port: number;
  /** `127.0.0.1:PORT`, ready for `dns.servers`. */
  server: string;
  /** Replaces the whole zone (takes effect for the next query); throws on malformed records. */
  setZone(zone: FakeZone): void;
  /** Every question received, in order. */
  queries: FakeDnsQuery[];
  /** Zone data the server could not encode (answered SERVFAIL instead), so a test can see its own mistake. */
  errors: Error[];
  close(): Promise<void>;
}

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4 } as const;
const UDP_DEFAULT_SIZE = 512;
const MAX_CNAME_CHAIN = 8;

function normalizeName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** Checks the data dns-packet would otherwise encode into garbage without a word. */
function checkRecords(name: string, set: FakeRecordSet): void {
  const fail = (what: string): never => {
    throw new Error(`fake DNS zone: ${name}: ${what}`);
  };
  for (const a of set.A ?? []) if (!net.isIPv4(a)) fail(`A ${a} is not an IPv4 address`);
  for (const a of set.AAAA ?? []) if (!net.isIPv6(a)) fail(`AAAA ${a} is not an IPv6 address`);
  for (const t of set.TXT ?? []) for (const part of t) if (Buffer.byteLength(part) > 255) fail('a TXT string is longer than 255 bytes (split it)');
  for (const mx of set.MX ?? []) if (!Number.isInteger(mx.priority) || mx.priority < 0 || mx.priority > 65535) fail(`MX priority ${mx.priority}`);
}

function normalizeZone(zone: FakeZone): Map<string, FakeRecordSet> {
  const map = new Map<string, FakeRecordSet>();
  for (const [name, records] of Object.entries(zone)) {
    checkRecords(name, records);
    map.set(normalizeName(name), records);
  }
  return map;
}

/** Whether a name exists in the zone, itself or as the parent of a name in it (an empty non-terminal). */
function nameExists(zone: Map<string, FakeRecordSet>, name: string): boolean {
  if (zone.has(name)) return true;
  const suffix = `.${name}`;
  for (const key of zone.keys()) if (key.endsWith(suffix)) return true;
  return false;
}

function recordsOf(name: string, set: FakeRecordSet, type: string): dnsPacket.Answer[] {
  const ttl = set.ttl ?? 0;
  const out: dnsPacket.Answer[] = [];
  const want = (t: string): boolean => type === t || type === 'ANY';
  if (want('A')) for (const data of set.A ?? []) out.push({ type: 'A', name, ttl, data });
  if (want('AAAA')) for (const data of set.AAAA ?? []) out.push({ type: 'AAAA', name, ttl, data });
  if (want('MX')) for (const mx of set.MX ?? []) out.push({ type: 'MX', name, ttl, data: { preference: mx.priority, exchange: mx.exchange } });
  if (want('PTR')) for (const data of set.PTR ?? []) out.push({ type: 'PTR', name, ttl, data });
  if (want('TXT')) for (const data of set.TXT ?? []) out.push({ type: 'TXT', name, ttl, data });
  if (want('TLSA')) for (const data of set.TLSA ?? []) out.push({ type: 'TLSA', name, ttl, data });
  return out;
}

interface Resolution {
  rcode: number;
  answers: dnsPacket.Answer[];
  ad: boolean;
  delayMs: number;
  drop: boolean;
}

/** Answers one question from the zone (following in-zone CNAMEs). */
function resolveQuestion(zone: Map<string, FakeRecordSet>, question: dnsPacket.Question): Resolution {
  const type = question.type;
  let name = normalizeName(question.name);
  const answers: dnsPacket.Answer[] = [];
  const first = zone.get(name);
  const result: Resolution = { rcode: RCODE.NOERROR, answers, ad: first?.ad === true, delayMs: first?.delayMs ?? 0, drop: first?.drop === true };
  for (let hop = 0; hop <= MAX_CNAME_CHAIN; hop++) {
    const set = zone.get(name);
    if (set?.rcode !== undefined) {
      result.rcode = RCODE[set.rcode];
      return result;
    }
    if (set === undefined) {
      // NXDOMAIN for the first name; after a CNAME the alias is still a good answer.
      if (hop === 0 && !nameExists(zone, name)) result.rcode = RCODE.NXDOMAIN;
      return result;
    }
    if (set.CNAME !== undefined && type !== 'CNAME') {
      const target = normalizeName(set.CNAME);
      answers.push({ type: 'CNAME', name, ttl: set.ttl ?? 0, data: target });
      name = target;
      continue;
    }
    if (type === 'CNAME' && set.CNAME !== undefined) {
      answers.push({ type: 'CNAME', name, ttl: set.ttl ?? 0, data: normalizeName(set.CNAME) });
      return result;
    }
    answers.push(...recordsOf(name, set, type));
    return result;
  }
  result.rcode = RCODE.SERVFAIL; // CNAME loop
  return result;
}

/** Starts the server; resolve with its port once both UDP and TCP listen. */
export async function startFakeDns(initialZone: FakeZone = {}): Promise<FakeDns> {
  let zone = normalizeZone(initialZone);
  const queries: FakeDnsQuery[] = [];
  const errors: Error[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const sockets = new Set<net.Socket>();
  let closed = false;

  /** Builds the response for a raw query; null to send nothing. */
  const answer = (raw: Buffer, transport: 'udp' | 'tcp'): { response: Buffer; delayMs: number } | null => {
    let query: dnsPacket.DecodedPacket;
    try {
      query = dnsPacket.decode(raw);
    } catch {
      return null; // garbage: a real server would drop it too
    }
    if (query.type !== 'query') return null;
    const question = query.questions?.[0];
    const opt = query.additionals?.find((a): a is dnsPacket.OptAnswer => a.type === 'OPT');
    const recursionDesired = (query.flags ?? 0) & dnsPacket.RECURSION_DESIRED;
    const opcode = ((query.flags ?? 0) >> 11) & 0xf;
    for (const q of query.questions ?? []) queries.push({ name: normalizeName(q.name), type: String(q.type), transport });

    const custom = question === undefined ? undefined : zone.get(normalizeName(question.name))?.raw;
    if (custom !== undefined && question !== undefined) {
      let bytes: Buffer | null;
      try {
        bytes = custom(query, transport);
      } catch (err) {
        errors.push(err instanceof Error ? err : new Error(String(err)));
        return null;
      }
      return bytes === null ? null : { response: bytes, delayMs: zone.get(normalizeName(question.name))?.delayMs ?? 0 };
    }

    let res: Resolution;
    if (opcode !== 0) res = { rcode: RCODE.NOTIMP, answers: [], ad: false, delayMs: 0, drop: false };
    else if (question === undefined || (query.questions?.length ?? 0) !== 1) res = { rcode: RCODE.FORMERR, answers: [], ad: false, delayMs: 0, drop: false };
    else res = resolveQuestion(zone, question);
    if (res.drop) return null;

    const flags = dnsPacket.AUTHORITATIVE_ANSWER | recursionDesired | (res.ad ? dnsPacket.AUTHENTIC_DATA : 0) | (opcode << 11) | res.rcode;
    const additionals: dnsPacket.Answer[] = [];
    if (opt !== undefined) {
      additionals.push({ type: 'OPT', name: '.', udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] } as unknown as dnsPacket.Answer);
    }
    const packet: dnsPacket.Packet = {
      type: 'response',
      id: query.id ?? 0,
      flags,
      questions: query.questions ?? [],
      answers: res.answers,
      additionals,
    };
    let response: Buffer;
    try {
      response = dnsPacket.encode(packet);
    } catch (err) {
      errors.push(err instanceof Error ? err : new Error(String(err)));
      response = dnsPacket.encode({ ...packet, flags: (flags & ~0xf) | RCODE.SERVFAIL, answers: [] });
    }
    if (transport === 'udp') {
      const limit = Math.max(UDP_DEFAULT_SIZE, opt?.udpPayloadSize ?? UDP_DEFAULT_SIZE);
      if (response.length > limit) {
        response = dnsPacket.encode({ ...packet, flags: flags | dnsPacket.TRUNCATED_RESPONSE, answers: [] });
      }
    }
    return { response, delayMs: res.delayMs };
  };

  const later = (delayMs: number, fn: () => void): void => {
    if (delayMs <= 0) {
      fn();
      return;
    }
    const t = setTimeout(() => {
      timers.delete(t);
      if (!closed) fn();
    }, delayMs);
    timers.add(t);
  };

  const makeUdp = (): dgram.Socket => {
    const udp = dgram.createSocket('udp4');
    udp.on('message', (msg, rinfo) => {
      const out = answer(msg, 'udp');
      if (out === null) return;
      later(out.delayMs, () => udp.send(out.response, rinfo.port, rinfo.address));
    });
    udp.on('error', () => {
      /* a send to a vanished client: nothing to do */
    });
    return udp;
  };

  const makeTcp = (): net.Server =>
    net.createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
      let buffered = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        while (buffered.length >= 2) {
          const length = buffered.readUInt16BE(0);
          if (buffered.length < 2 + length) break;
          const message = buffered.subarray(2, 2 + length);
          buffered = buffered.subarray(2 + length);
          const out = answer(Buffer.from(message), 'tcp');
          if (out === null) continue;
          later(out.delayMs, () => {
            if (socket.destroyed) return;
            const frame = Buffer.alloc(2 + out.response.length);
            frame.writeUInt16BE(out.response.length, 0);
            out.response.copy(frame, 2);
            socket.write(frame);
          });
        }
      });
    });

  const { udp, tcp, port } = await bindBoth(makeUdp, makeTcp);

  return {
    port,
    server: `127.0.0.1:${port}`,
    queries,
    errors,
    setZone(next: FakeZone): void {
      zone = normalizeZone(next);
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const s of sockets) s.destroy();
      await Promise.all([
        new Promise<void>((resolve) => udp.close(() => resolve())),
        new Promise<void>((resolve) => tcp.close(() => resolve())),
      ]);
    },
  };
}

/** Binds UDP to an ephemeral port on 127.0.0.1, then TCP to the same port (a fresh pair when TCP's is taken). */
async function bindBoth(makeUdp: () => dgram.Socket, makeTcp: () => net.Server): Promise<{ udp: dgram.Socket; tcp: net.Server; port: number }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const udp = makeUdp();
    const port = await new Promise<number>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      udp.once('error', onError);
      udp.bind(0, '127.0.0.1', () => {
        udp.off('error', onError);
        resolve(udp.address().port);
      });
    });
    const tcp = makeTcp();
    const ok = await new Promise<boolean>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        if (err.code === 'EADDRINUSE') resolve(false);
        else reject(err);
      };
      tcp.once('error', onError);
      tcp.listen(port, '127.0.0.1', () => {
        tcp.off('error', onError);
        resolve(true);
      });
    });
    if (ok) return { udp, tcp, port };
    await new Promise<void>((resolve) => udp.close(() => resolve()));
  }
  throw new Error('fake DNS: no free port for both UDP and TCP');
}
