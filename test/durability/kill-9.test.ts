/**
 * Durability (SPEC §4.3): a 250 after DATA means the message is on disk. Start the
 * real gateway, send messages over several connections, kill -9 it right after
 * the 250s, and check that every acknowledged message is in the spool, then that
 * a restart recovers them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { homeLayout } from '../../src/core/home-layout.js';
import { Spool } from '../../src/queue/spool.js';
import { SmtpTestClient } from '../harness/smtp-test-client.js';
import { relayHome, startGatewayProcess } from '../harness/gateway-process.js';

test('every acknowledged message survives kill -9 and is recovered on restart', async () => {
  const { home, port, configFile } = await relayHome();
  const gw = await startGatewayProcess(home, ['--config', configFile]);

  const acknowledged = new Set<number>();
  let killed = false;
  const sendLoop = async (): Promise<void> => {
    const c = await SmtpTestClient.connect(port);
    try {
      await c.read();
      await c.command('EHLO load.test');
      for (let i = 0; i < 40; i++) {
        const r = await c.send('load@sender.test', ['x@dest.test'], `Subject: durable ${i}\r\n\r\n${`${'z'.repeat(70)}\r\n`.repeat(30)}`);
        const mid = /queued as (\d+)/.exec(r.text)?.[1];
        if (r.code === 250 && mid !== undefined) acknowledged.add(Number(mid));
      }
    } catch (err) {
      // The kill cuts connections; what was acknowledged before is what counts.
      if (!killed) errors.push(String(err));
    } finally {
      c.close();
    }
  };
  const errors: string[] = [];
  const loops = Array.from({ length: 4 }, () => sendLoop().catch((e: unknown) => errors.push(String(e))));
  // Kill as soon as a good number of messages have been acknowledged, mid-load.
  const deadline = Date.now() + 20_000;
  while (acknowledged.size < 60) {
    assert.ok(Date.now() < deadline, `only ${acknowledged.size} messages acknowledged; ${errors.join('; ')}\n${gw.output()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  killed = true;
  gw.child.kill('SIGKILL');
  await gw.exited;
  await Promise.all(loops);
  assert.ok(acknowledged.size >= 60);

  const spool = await Spool.open(homeLayout(home).spoolDir);
  const stored = new Set(spool.list().map((m) => m.mid));
  await spool.close();
  const lost = [...acknowledged].filter((mid) => !stored.has(mid));
  assert.deepEqual(lost, [], `acknowledged but lost: ${lost.join(', ')}`);

  const again = await startGatewayProcess(home);
  again.child.kill('SIGTERM');
  assert.equal(await again.exited, 0);
  const log = fs.readFileSync(path.join(homeLayout(home).mailLogDir, 'mail.current'), 'utf8');
  const recovered = [...log.matchAll(/Gatehouse starting: (\d+) messages recovered from the spool/g)].map((m) => Number(m[1]));
  assert.ok((recovered[recovered.length - 1] ?? 0) >= acknowledged.size, `recovered ${recovered.join(',')} of ${acknowledged.size}`);
});
