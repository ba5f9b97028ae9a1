/**
 * Durability end to end (SPEC §4.3, security catalogue §38): the real gateway
 * process relays a load of 2,000 messages (8 concurrent client connections,
 * ~2 KiB each) to a recording sink on loopback; it is killed with SIGKILL in
 * the middle of the load — while it is both accepting and delivering — and
 * restarted. The clients behave like MTAs: a message without a 250 is sent
 * again after reconnecting. When the queue has drained, every message that
 * got a 250 must have arrived at the sink (loss = 0, asserted); messages that
 * arrived twice are counted and printed (duplicates are allowed: the window
 * between a durable store or a delivery and its acknowledgement, RFC 1047).
 * (test/durability/kill-9.test.ts proves the spool part alone.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SmtpTestClient } from '../harness/smtp-test-client.js';
import { relayHome, startGatewayProcess, type GatewayProcess } from '../harness/gateway-process.js';
import { ID_HEADER, startRecordingSink } from './recording-sink.js';

const CLIENTS = 8;
const PER_CLIENT = 250;
const TOTAL = CLIENTS * PER_CLIENT;
/** Kill once this many messages were acknowledged (mid-load). */
const KILL_AFTER = 700;

const sleep = async (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function message(id: string): string {
  const line = `${'durable payload '.repeat(4)}${id}`.slice(0, 76);
  return `${ID_HEADER}: ${id}\r\nMessage-ID: <${id}@load.test>\r\nSubject: durability ${id}\r\n\r\n${`${line}\r\n`.repeat(25)}`;
}

test(`kill -9 during a relay load of ${TOTAL} messages: every acknowledged message reaches the sink`, async () => {
  const sink = await startRecordingSink();
  const { home, port, configFile } = await relayHome({ smtpRoutes: [{ domain: 'ALL', hosts: [`127.0.0.1:${sink.port}`] }] });
  const processes: GatewayProcess[] = [];
  try {
    processes.push(await startGatewayProcess(home, ['--config', configFile]));

    const acked = new Set<string>();
    /** Messages whose DATA was sent but whose reply never came (the kill): sent again, may arrive twice. */
    const inDoubt = new Set<string>();
    const errors: string[] = [];
    const deadline = Date.now() + 80_000;
    const client = async (c: number): Promise<void> => {
      let i = 0;
      while (i < PER_CLIENT) {
        if (Date.now() > deadline) throw new Error(`client ${c} gave up at message ${i}`);
        let conn: SmtpTestClient | undefined;
        try {
          conn = await SmtpTestClient.connect(port);
          if ((await conn.read(10_000)).code !== 220) throw new Error('no banner');
          if ((await conn.command('EHLO load.test')).code !== 250) throw new Error('EHLO refused');
          while (i < PER_CLIENT) {
            const id = `c${c}-m${i}`;
            let r;
            try {
              r = await conn.send('load@sender.test', ['rcpt@dest.test'], message(id));
            } catch (err) {
              inDoubt.add(id);
              throw err;
            }
            if (r.code === 250) {
              acked.add(id);
              i++;
            } else if (r.code >= 500) {
              errors.push(`${id}: ${r.text}`);
              throw new Error(`${id} refused: ${r.text}`);
            } else throw new Error(`${id} deferred: ${r.text}`);
          }
          await conn.command('QUIT');
        } catch {
          // The gateway is down or going down: reconnect and send the same message again.
          await sleep(100);
        } finally {
          conn?.close();
        }
      }
    };
    const clients = Array.from({ length: CLIENTS }, async (_, c) => client(c));
    const allDone = Promise.all(clients);
    allDone.catch(() => {});

    while (acked.size < KILL_AFTER) {
      assert.ok(Date.now() < deadline, `only ${acked.size} acknowledged before the kill; ${errors.join('; ')}\n${processes[0]!.output()}`);
      await sleep(5);
    }
    const ackedAtKill = acked.size;
    const arrivedAtKill = sink.total;
    processes[0]!.child.kill('SIGKILL');
    assert.equal(await processes[0]!.exited, 'SIGKILL');
    processes.push(await startGatewayProcess(home));

    await allDone;
    assert.deepEqual(errors, [], 'no message was refused');
    assert.equal(acked.size, TOTAL);

    // Drain: wait until every acknowledged message arrived (or the deadline, then report the missing ones).
    const missing = (): string[] => [...acked].filter((id) => !sink.arrivals.has(id));
    while (missing().length > 0 && Date.now() < deadline) await sleep(50);
    const lost = missing();
    const duplicates = [...sink.arrivals.values()].reduce((n, k) => n + k - 1, 0);
    const duplicated = [...sink.arrivals].filter(([, k]) => k > 1).map(([id]) => id);
    console.log(
      `durability: ${TOTAL} messages offered by ${CLIENTS} clients, killed after ${ackedAtKill} acknowledged and ${arrivedAtKill} delivered; ` +
        `${inDoubt.size} in doubt (sent again); delivered ${sink.total} (unique ${sink.arrivals.size}); lost ${lost.length}; duplicates ${duplicates}` +
        (duplicated.length > 0 ? ` (${duplicated.slice(0, 10).join(', ')}${duplicated.length > 10 ? ', ...' : ''})` : ''),
    );
    assert.deepEqual(lost.slice(0, 20), [], `${lost.length} acknowledged messages never arrived\n${processes[1]!.output()}`);
    assert.ok(ackedAtKill < TOTAL, 'the kill happened during the load');
    assert.equal(sink.withoutId, 0, 'every delivered message is one of ours');
    // Every arrival is a message a client sent (no invented ids).
    for (const id of sink.arrivals.keys()) assert.match(id, /^c\d+-m\d+$/);

    processes[1]!.child.kill('SIGTERM');
    assert.equal(await processes[1]!.exited, 0);
  } finally {
    for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await sink.close();
  }
});
