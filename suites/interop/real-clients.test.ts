/**
 * Real SMTP clients against a Gatehouse listener with TLS required: swaks
 * (refused with 530 before STARTTLS, accepted after), openssl s_client (the
 * configured chain, in order, verifies against the openssl-made root), and
 * Python's smtplib (STARTTLS with hostname verification; the message arrives at
 * the receiving Postfix through Gatehouse's required-verify delivery).
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, test } from 'node:test';
import { findTool, runTool } from './external-tools.js';
import { GATEWAY_NAME, RECIPIENT_DOMAIN, startInteropRig, type InteropRig } from './interop-rig.js';

let rig: InteropRig | undefined;

before(async () => {
  for (const tool of ['postfix', 'swaks', 'openssl', 'python3'] as const) findTool(tool);
  rig = await startInteropRig({ receiver: true });
});

after(async () => {
  await rig?.close();
});

function must(): InteropRig {
  assert.ok(rig, 'the rig did not start');
  return rig;
}

const swaksArgs = (port: number, marker: string): string[] => [
  '--server', '127.0.0.1', '--port', String(port), '--helo', 'swaks.localdomain',
  '--from', 'alice@source.test', '--to', `bob@${RECIPIENT_DOMAIN}`, '--header', `Subject: ${marker}`,
];

test('swaks without --tls is refused with 530 on a TLS-required listener', async () => {
  const r = must();
  const out = await runTool('swaks', swaksArgs(r.gatehouse.port, 'interop-swaks-plain'));
  assert.notEqual(out.code, 0, out.output);
  assert.match(out.output, /-> MAIL FROM:<alice@source\.test>\s*\n<\*\* +530 5\.7\.0 /);
  assert.doesNotMatch(out.output, /<- +250 .*queued/i);
  assert.doesNotMatch(out.output, /-> STARTTLS/, 'swaks must not have used STARTTLS here');
});

test('swaks with --tls (verifying the chain against the test root) is accepted with 250 and the message arrives', async () => {
  const r = must();
  const marker = `interop-swaks-tls-${process.pid}`;
  const out = await runTool('swaks', [...swaksArgs(r.gatehouse.port, marker), '--tls', '--tls-verify', '--tls-ca-path', r.pki.root.certFile]);
  assert.equal(out.code, 0, out.output);
  assert.match(out.output, /-> STARTTLS\s*\n<- +220 /);
  assert.match(out.output, /=== TLS started with cipher TLSv1\.[23]:/);
  assert.match(out.output, /<~ +250 .*queued/i);
  const message = await r.waitForDelivery(marker);
  assert.match(message, /by gw\.test \(Gatehouse\) with ESMTPS/);
});

/** The certificates of an `openssl s_client -showcerts` transcript: depth, subject, issuer and PEM, in the order sent. */
function shownChain(output: string): { depth: number; subject: string; issuer: string; pem: string }[] {
  const chain: { depth: number; subject: string; issuer: string; pem: string }[] = [];
  const re = /^ (\d+) s:(.*)\n\s+i:(.*)\n(?:\s+[av]:.*\n)*(-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----)/gm;
  for (const m of output.matchAll(re)) chain.push({ depth: Number(m[1]), subject: m[2]!.trim(), issuer: m[3]!.trim(), pem: m[4]! });
  return chain;
}

test('openssl s_client -starttls smtp -showcerts sees the configured chain in order and verifies it', async () => {
  const r = must();
  const out = await runTool('openssl', [
    's_client', '-connect', `127.0.0.1:${r.gatehouse.port}`, '-starttls', 'smtp', '-name', 'sclient.localdomain', '-showcerts',
    '-servername', GATEWAY_NAME, '-CAfile', r.pki.root.certFile, '-verify_return_error', '-verify_hostname', GATEWAY_NAME,
  ], { input: 'QUIT\n', timeoutMs: 30_000 });
  assert.equal(out.code, 0, out.output);
  const chain = shownChain(out.stdout);
  assert.equal(chain.length, 2, `leaf and intermediate expected (the root is not sent):\n${out.stdout}`);
  const [leaf, intermediate] = chain;
  assert.equal(leaf!.depth, 0);
  assert.equal(leaf!.subject, `O = Gatehouse Interop, CN = ${GATEWAY_NAME}`);
  assert.equal(leaf!.issuer, 'O = Gatehouse Interop, CN = Interop Intermediate CA');
  assert.equal(intermediate!.depth, 1);
  assert.equal(intermediate!.subject, 'O = Gatehouse Interop, CN = Interop Intermediate CA');
  assert.equal(intermediate!.issuer, 'O = Gatehouse Interop, CN = Interop Root CA');
  // Byte for byte the certificates that were pasted into the profile.
  const fingerprint = (pem: string): string => new crypto.X509Certificate(pem).fingerprint256;
  assert.equal(fingerprint(leaf!.pem), fingerprint(r.gatewayLeaf.certPem));
  assert.equal(fingerprint(intermediate!.pem), fingerprint(r.pki.intermediate.certPem));
  assert.match(out.stdout, /Verify return code: 0 \(ok\)/);
  assert.match(out.stdout, /Protocol *: TLSv1\.[23]|New, TLSv1\.[23], Cipher is/);
});

const SMTPLIB_SCRIPT = `
import smtplib, ssl, sys
from email.message import EmailMessage
port, cafile, server_name, to, marker = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
ctx = ssl.create_default_context(cafile=cafile)  # verifies the chain and the host name
msg = EmailMessage()
msg["From"], msg["To"], msg["Subject"] = "alice@source.test", to, marker
msg.set_content("sent by Python smtplib\\n")
with smtplib.SMTP("127.0.0.1", port, local_hostname="smtplib.localdomain", timeout=30) as s:
    code, _ = s.ehlo()
    assert code == 250 and s.has_extn("starttls"), "STARTTLS not offered"
    s._host = server_name  # the name starttls() sends as SNI and checks in the certificate
    code, resp = s.starttls(context=ctx)
    assert code == 220, (code, resp)
    print("tls", s.sock.version(), s.sock.cipher()[0])
    s.ehlo()
    assert not s.has_extn("starttls"), "STARTTLS still advertised after TLS"
    refused = s.send_message(msg)
    assert not refused, refused
    print("sent")
`;

test('Python smtplib with starttls delivers a message that arrives', async () => {
  const r = must();
  const marker = `interop-smtplib-${process.pid}`;
  const out = await runTool('python3', ['-c', SMTPLIB_SCRIPT, String(r.gatehouse.port), r.pki.root.certFile, GATEWAY_NAME, `carol@${RECIPIENT_DOMAIN}`, marker], { timeoutMs: 60_000 });
  assert.equal(out.code, 0, out.output);
  assert.match(out.stdout, /^tls TLSv1\.[23] \S+$/m);
  assert.match(out.stdout, /^sent$/m);
  const message = await r.waitForDelivery(marker);
  assert.match(message, /^Delivered-To: carol@example\.test$/m);
  assert.match(message, /from smtplib\.localdomain[\s\S]*?by gw\.test \(Gatehouse\) with ESMTPS/);
});

const STARTTLS_INJECTION_SCRIPT = `
import socket, ssl, sys
port, cafile, server_name = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.create_connection(("127.0.0.1", port), timeout=15)
buf = b""
def reply(sock):
    global buf
    while True:
        lines = buf.split(b"\\r\\n")
        for i, line in enumerate(lines[:-1]):
            if len(line) >= 4 and line[3:4] == b" ":
                out = b"\\r\\n".join(lines[: i + 1])
                buf = b"\\r\\n".join(lines[i + 1 :])
                return out.decode()
        chunk = sock.recv(4096)
        if not chunk:
            raise SystemExit("connection closed; got %r" % buf)
        buf += chunk
print("banner", reply(s))
s.sendall(b"EHLO inject.localdomain\\r\\n")
reply(s)
# RSET rides in the same segment as STARTTLS, before the handshake (CVE-2011-0411 class).
s.sendall(b"STARTTLS\\r\\nRSET\\r\\n")
r = reply(s)
assert r.startswith("220"), r
assert buf == b"", "plaintext bytes after the 220: %r" % buf
t = ssl.create_default_context(cafile=cafile).wrap_socket(s, server_hostname=server_name)
t.settimeout(3)
try:
    data = t.recv(4096)
    print("INJECTED COMMAND ANSWERED INSIDE TLS: %r" % data)
    sys.exit(1)
except (socket.timeout, TimeoutError):
    print("no answer to the injected command")
t.settimeout(15)
t.sendall(b"EHLO inject.localdomain\\r\\n")
r = reply(t)
assert r.startswith("250"), r
t.sendall(b"QUIT\\r\\n")
print("after tls", reply(t).splitlines()[0])
`;

test('a command pipelined after STARTTLS is not executed inside TLS (STARTTLS injection, probed with Python ssl)', async () => {
  const r = must();
  const out = await runTool('python3', ['-c', STARTTLS_INJECTION_SCRIPT, String(r.gatehouse.port), r.pki.root.certFile, GATEWAY_NAME], { timeoutMs: 60_000 });
  assert.equal(out.code, 0, out.output);
  assert.match(out.stdout, /^no answer to the injected command$/m);
  assert.match(out.stdout, /^after tls 221 /m);
  await r.gatehouse.waitForMailLog(/ICID \d+ STARTTLS: discarded 6 bytes sent before the TLS handshake/);
});
