import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MailEvent } from '../logging/mail-events.js';
import { emptyCounts, type TlsCounts } from './tls-counts.js';
import { hostKey, TlsConnectionCounter } from './tls-counters.js';

const H = Date.UTC(2026, 10, 29, 13);

function counts(c: Partial<TlsCounts>): TlsCounts {
  return { ...emptyCounts(), ...c };
}

/** Feeds events at `time` and returns the delta as plain objects. */
function run(events: [MailEvent, number][]): Record<string, { inbound: Record<string, TlsCounts>; outbound: Record<string, TlsCounts> }> {
  const counter = new TlsConnectionCounter();
  for (const [e, t] of events) counter.observe(e, t);
  const out: Record<string, { inbound: Record<string, TlsCounts>; outbound: Record<string, TlsCounts> }> = {};
  for (const [hour, h] of counter.takeDelta()) out[new Date(hour).toISOString()] = { inbound: Object.fromEntries(h.inbound), outbound: Object.fromEntries(h.outbound) };
  assert.equal(counter.dirty, false);
  return out;
}

function inbound(icid: number, tls: 'off' | 'preferred' | 'required', behavior: 'ACCEPT' | 'RELAY' | 'REJECT' = 'ACCEPT'): MailEvent[] {
  return [
    { event: 'icid.new', icid, listener: 'In', listenerAddress: '127.0.0.1', ip: '192.0.2.1', reverseDns: 'mx1.sender.example', verified: true },
    { event: 'icid.policy', icid, behavior, group: 'G', rule: 'ALL', sbrs: null, policy: 'P', tls },
  ];
}

test('inbound: each connection lands in exactly one class, keyed by the first sender domain, counted at close', () => {
  const t = H + 60_000;
  const ev: MailEvent[] = [
    // preferred + TLS, one message
    ...inbound(1, 'preferred'),
    { event: 'icid.tls.success', icid: 1, protocol: 'TLSv1.3', cipher: 'X' },
    { event: 'mid.start', mid: 10, icid: 1 },
    { event: 'mid.from', mid: 10, icid: 1, from: 'a@Tls.Example' },
    { event: 'mid.ready', mid: 10, bytes: 5, from: 'a@Tls.Example' },
    { event: 'icid.close', icid: 1 },
    // preferred, plaintext, one message
    ...inbound(2, 'preferred'),
    { event: 'mid.start', mid: 11, icid: 2 },
    { event: 'mid.from', mid: 11, icid: 2, from: 'b@plain.example' },
    { event: 'mid.ready', mid: 11, bytes: 5, from: 'b@plain.example' },
    { event: 'icid.close', icid: 2 },
    // required, client never started TLS: no sender → reverse-DNS key
    ...inbound(3, 'required'),
    { event: 'icid.tls.required', icid: 3 },
    { event: 'icid.close', icid: 3 },
    // preferred, handshake failed
    ...inbound(4, 'preferred'),
    { event: 'icid.tls.failed', icid: 4, reason: 'no shared cipher' },
    { event: 'icid.close', icid: 4 },
    // rejected session: not counted
    ...inbound(5, 'preferred', 'REJECT'),
    { event: 'icid.close', icid: 5 },
  ];
  const d = run(ev.map((e) => [e, t]));
  assert.deepEqual(Object.keys(d), [new Date(H).toISOString()]);
  assert.deepEqual(d[new Date(H).toISOString()]!.inbound, {
    'tls.example': counts({ connections: 1, preferredSuccess: 1, messages: 1, encryptedMessages: 1 }),
    'plain.example': counts({ connections: 1, plaintext: 1, messages: 1 }),
    'sender.example': counts({ connections: 2, requiredFailure: 1, preferredFailure: 1 }),
  });
  assert.deepEqual(d[new Date(H).toISOString()]!.outbound, {});
});

test('outbound: classes by wanted level; messages per Message done; hour of the close', () => {
  const dcid = (n: number, tls: 'no' | 'preferred' | 'required' | 'required-verify', domain: string): MailEvent => ({ event: 'dcid.new', dcid: n, interface: '127.0.0.1', ip: '127.0.0.1', port: 25, domain, tls });
  const ev: [MailEvent, number][] = [
    [dcid(1, 'preferred', 'a.example'), H + 1],
    [{ event: 'dcid.tls.success', dcid: 1, protocol: 'TLSv1.3', cipher: 'X' }, H + 2],
    [{ event: 'dcid.delivery.done', dcid: 1, mid: 1, rids: [0] }, H + 3],
    [{ event: 'dcid.delivery.done', dcid: 1, mid: 2, rids: [0, 1] }, H + 4],
    [{ event: 'dcid.close', dcid: 1 }, H + 3_600_000 + 5], // closes in the next hour
    [dcid(2, 'preferred', 'a.example'), H + 6],
    [{ event: 'dcid.starttls.unsupported', dcid: 2 }, H + 7],
    [{ event: 'dcid.delivery.done', dcid: 2, mid: 3, rids: [0] }, H + 8],
    [{ event: 'dcid.close', dcid: 2 }, H + 9],
    [dcid(3, 'required-verify', 'b.example'), H + 10],
    [{ event: 'dcid.tls.success', dcid: 3, protocol: 'TLSv1.3', cipher: 'X' }, H + 11],
    [{ event: 'dcid.tls.verify-failed', dcid: 3, reason: 'self-signed' }, H + 12],
    [{ event: 'dcid.tls.required-failed', dcid: 3, ip: '127.0.0.1' }, H + 13],
    [{ event: 'dcid.close', dcid: 3 }, H + 14],
    [dcid(4, 'required', 'b.example'), H + 15],
    [{ event: 'dcid.tls.success', dcid: 4, protocol: 'TLSv1.2', cipher: 'X' }, H + 16],
    [{ event: 'dcid.tls.verified', dcid: 4, identifier: 'b.example' }, H + 16],
    [{ event: 'dcid.close', dcid: 4 }, H + 17],
    [dcid(5, 'preferred', 'c.example'), H + 18],
    [{ event: 'dcid.tls.failed', dcid: 5, reason: 'STARTTLS unexpected response' }, H + 19],
    [{ event: 'dcid.close', dcid: 5 }, H + 20],
    [dcid(6, 'no', 'c.example'), H + 21],
    [{ event: 'dcid.close', dcid: 6 }, H + 22],
    // a connection that never opened: not counted
    [{ event: 'dcid.connection-error', dcid: 7, domain: 'c.example', ip: '127.0.0.1', port: 9, details: 'ECONNREFUSED', interface: '0.0.0.0', reason: 'network error' }, H + 23],
  ];
  const d = run(ev);
  const h0 = new Date(H).toISOString();
  const h1 = new Date(H + 3_600_000).toISOString();
  assert.deepEqual(d[h0]!.outbound, {
    'a.example': counts({ connections: 1, plaintext: 1, messages: 3, encryptedMessages: 2 }),
    'b.example': counts({ connections: 2, requiredFailure: 1, requiredSuccess: 1, verified: 1 }),
    'c.example': counts({ connections: 2, preferredFailure: 1, plaintext: 1 }),
  });
  assert.deepEqual(d[h1]!.outbound, { 'a.example': counts({ connections: 1, preferredSuccess: 1 }) });
});

test('hostKey drops the first label of a verified name with three or more labels, else uses the IP', () => {
  assert.equal(hostKey('192.0.2.1', 'mx1.example.com', true), 'example.com');
  assert.equal(hostKey('192.0.2.1', 'example.com', true), 'example.com');
  assert.equal(hostKey('192.0.2.1', 'localhost', true), 'localhost');
  assert.equal(hostKey('192.0.2.1', 'mx1.example.com', false), '192.0.2.1');
  assert.equal(hostKey('192.0.2.1', null, false), '192.0.2.1');
});
