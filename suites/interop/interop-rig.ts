/**
 * The rig every interop test starts from: a temp folder, a PKI made with openssl,
 * optionally a receiving Postfix instance that delivers `example.test` into a
 * Maildir, and Gatehouse (set up through its CLI) relaying `example.test` to
 * that Postfix with destination control required-verify.
 *
 *   client tool --STARTTLS--> Gatehouse 127.0.0.1:<port> --STARTTLS, verified--> Postfix 127.0.0.1:<port> -> Maildir
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../test/harness/gateway-fixture.js';
import { waitForText } from './external-tools.js';
import { startGatehouse, type GatehouseUnderTest } from './configured-gatehouse.js';
import { createOpensslPki, type OpensslPki, type PemFiles } from './openssl-pki.js';
import { startPostfix, type PostfixInstance } from './postfix-instance.js';

export const RECIPIENT_DOMAIN = 'example.test';
/**
 * Also routed to the receiver under required-verify, and accepted by it, but the receiver's
 * certificate names only RECIPIENT_DOMAIN: Gatehouse must refuse to deliver (the negative control).
 */
export const MISMATCH_DOMAIN = 'mismatch.test';
/** The name Gatehouse's listener certificate carries (with IP 127.0.0.1). */
export const GATEWAY_NAME = 'gw.test';

export interface InteropRig {
  dir: string;
  pki: OpensslPki;
  gatewayLeaf: PemFiles;
  gatehouse: GatehouseUnderTest;
  /** The receiving Postfix (absent when the rig was started without it). */
  receiver: PostfixInstance | null;
  /** Waits until a message containing `marker` is in the receiver's Maildir; returns it. */
  waitForDelivery(marker: string, timeoutMs?: number): Promise<string>;
  close(): Promise<void>;
}

/** Every message file in a Maildir's new/ and cur/, concatenated with a separator. */
function readMaildir(maildir: string): string {
  const parts: string[] = [];
  for (const sub of ['new', 'cur']) {
    const d = path.join(maildir, sub);
    if (!fs.existsSync(d)) continue;
    for (const f of fs.readdirSync(d)) parts.push(fs.readFileSync(path.join(d, f), 'utf8'));
  }
  return parts.join('\n=====\n');
}

export async function startInteropRig(options: { receiver: boolean }): Promise<InteropRig> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-interop-'));
  fs.chmodSync(dir, 0o755); // Postfix daemons (user postfix) must reach their queue below it
  const cleanups: (() => Promise<void>)[] = [];
  const close = async (): Promise<void> => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    const pki = await createOpensslPki(path.join(dir, 'pki'));
    const gatewayLeaf = await pki.serverLeaf('gateway', [GATEWAY_NAME, '127.0.0.1']);
    const nextHopPort = await freePort();
    let receiver: PostfixInstance | null = null;
    const maildirBase = path.join(dir, 'receiver', 'mail');
    if (options.receiver) {
      const receiverLeaf = await pki.serverLeaf('receiver', [RECIPIENT_DOMAIN]);
      const chainFile = path.join(pki.dir, 'receiver-chain.pem');
      // smtpd_tls_chain_files: key, then leaf, then intermediate.
      fs.writeFileSync(chainFile, [receiverLeaf.keyFile, receiverLeaf.certFile, pki.intermediate.certFile].map((f) => fs.readFileSync(f, 'utf8')).join(''), { mode: 0o600 });
      fs.mkdirSync(maildirBase, { recursive: true });
      fs.chownSync(maildirBase, 65534, 65534);
      receiver = await startPostfix({
        dir: path.join(dir, 'receiver'),
        port: nextHopPort,
        hostname: 'receiver.localdomain',
        mainCf: {
          virtual_mailbox_domains: `${RECIPIENT_DOMAIN}, ${MISMATCH_DOMAIN}`,
          virtual_mailbox_base: maildirBase,
          virtual_mailbox_maps: 'static:inbox/',
          virtual_uid_maps: 'static:65534',
          virtual_gid_maps: 'static:65534',
          smtpd_tls_chain_files: chainFile,
          smtpd_tls_security_level: 'may',
          smtpd_relay_restrictions: 'permit_mynetworks, reject_unauth_destination',
        },
      });
      const r = receiver;
      cleanups.push(() => r.stop());
    }
    const gatehouse = await startGatehouse({ home: path.join(dir, 'gatehouse'), pki, leaf: gatewayLeaf, recipientDomains: [RECIPIENT_DOMAIN, MISMATCH_DOMAIN], nextHopPort });
    cleanups.push(() => gatehouse.stop());
    const maildir = path.join(maildirBase, 'inbox');
    return {
      dir,
      pki,
      gatewayLeaf,
      gatehouse,
      receiver,
      waitForDelivery: async (marker, timeoutMs = 30_000) => {
        if (!receiver) throw new Error('this rig has no receiving Postfix');
        await waitForText(`the receiver's Maildir ${maildir}`, () => readMaildir(maildir), new RegExp(marker.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), timeoutMs);
        return readMaildir(maildir).split('\n=====\n').find((m) => m.includes(marker))!;
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
