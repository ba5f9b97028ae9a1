/**
 * Test fixture for spool.test.ts, not part of the product. Run as a child
 * process: `node spool-crash-fixture.js <dir> <firstMid>`. It stores
 * two-recipient messages from 8 concurrent loops until it is killed, and prints
 * one line once each operation is durable:
 *   `stored <mid>`  store() resolved
 *   `partial <mid>` rid 0 delivered, rid 1 deferred (mid % 5 === 1)
 *   `done <mid>`    both recipients delivered, message finished (mid % 5 is 0, 2 or 4)
 * mid % 5 === 3 is stored only. Small segments make rotation, copying forward
 * and segment deletion happen while it runs.
 */
import { pathToFileURL } from 'node:url';
import { Spool } from './spool.js';
import type { NewMessage } from './spool-types.js';

/** Body of message `mid` (the parent checks every recovered body against it). */
export function fixtureBody(mid: number): Buffer {
  const line = `X-Fixture: ${mid} ${'abcdefghijklmnopqrstuvwxyz'.repeat(3)}\r\n`;
  return Buffer.from(`Subject: m${mid}\r\n\r\n${line.repeat(10 + (mid % 40))}`);
}

/** Whether the fixture finishes message `mid` right after storing it. */
export function finishes(mid: number): boolean {
  return mid % 5 === 0 || mid % 5 === 2 || mid % 5 === 4;
}

/** Envelope of message `mid`. */
export function fixtureMessage(mid: number): NewMessage {
  return {
    mid,
    icid: mid,
    receivedAt: 1_700_000_000_000 + mid,
    from: `s${mid}@src.test`,
    recipients: [`a${mid}@dst.test`, `b${mid}@dst.test`],
    listener: 'IncomingMail',
    bodyType: '7BIT',
    tls: null,
    clientIp: '127.0.0.1',
  };
}

async function main(dir: string, first: number): Promise<void> {
  const spool = await Spool.open(dir, { segmentBytes: 16 * 1024 });
  let next = first;
  const out = (line: string): void => {
    process.stdout.write(`${line}\n`); // synchronous for pipes on Linux
  };
  const worker = async (): Promise<void> => {
    for (;;) {
      const mid = next++;
      await spool.store(fixtureMessage(mid), fixtureBody(mid));
      out(`stored ${mid}`);
      if (finishes(mid)) {
        await spool.update(mid, [
          { rid: 0, state: 'delivered', attempts: 1 },
          { rid: 1, state: 'delivered', attempts: 1 },
        ]);
        out(`done ${mid}`);
      } else if (mid % 5 === 1) {
        await spool.update(mid, [
          { rid: 0, state: 'delivered', attempts: 1, lastReply: '250 ok' },
          { rid: 1, attempts: 1, nextAttemptAt: 42, lastReply: '451 later' },
        ]);
        out(`partial ${mid}`);
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [dir, first] = process.argv.slice(2);
  if (!dir || !first) {
    process.stderr.write('usage: spool-crash-fixture.js <dir> <firstMid>\n');
    process.exit(2);
  }
  main(dir, Number(first)).catch((err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  });
}
