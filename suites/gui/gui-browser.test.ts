/**
 * The admin GUI in a real browser (Debian's Chromium) against the real
 * program (`gatehouse start`): log in, create a self-signed certificate,
 * download its CSR, have it signed by an openssl test CA, upload it with the
 * intermediate, assign it to a listener, commit, and see the new chain with
 * `openssl s_client -starttls smtp`. Also: a destination set to
 * required-verify shows in the table; with the test CA imported into the
 * custom trust list, TLS Verify against the listener succeeds step by step.
 * The TLS report draws its uPlot charts; tracking shows the mail log.
 * Screenshots of every page go to
 * test-artifacts/gui/.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { createOpensslCa, type OpensslCa } from '../../test/certificates/openssl-ca.js';
import { freePort, tempHome } from '../../test/harness/gateway-fixture.js';
import { runCli, startGatewayProcess, type GatewayProcess } from '../../test/harness/gateway-process.js';
import { launchChromium, screenshot } from './browser.js';

async function cli(home: string, ...args: string[]): Promise<string> {
  const r = await runCli(['--home', home, ...args]);
  if (r.code !== 0) throw new Error(`gatehouse ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/** The certificate chain a listener presents after STARTTLS, as openssl s_client prints it. */
function sClientChain(port: number): string {
  return execFileSync('openssl', ['s_client', '-starttls', 'smtp', '-connect', `127.0.0.1:${port}`, '-showcerts', '-servername', 'mx.gw.test'], {
    input: 'QUIT\r\n',
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
    timeout: 20_000,
  });
}

describe('admin GUI in Chromium', () => {
  let home: string;
  let proc: GatewayProcess;
  let base: string;
  let smtpPort: number;
  let password: string;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;
  let ca: OpensslCa;
  let work: string;

  before(async () => {
    home = tempHome('gatehouse-gui-');
    work = tempHome('gatehouse-gui-files-');
    const init = await cli(home, 'init', '--hostname', 'gw.test');
    password = /Admin password: (\S+)/.exec(init)?.[1] ?? '';
    assert.notEqual(password, '');
    smtpPort = await freePort();
    const guiPort = await freePort();
    await cli(home, 'listenerconfig', 'edit', 'IncomingMail', '--port', String(smtpPort));
    await cli(home, 'listenerconfig', 'edit', 'OutgoingMail', '--port', String(await freePort()));
    await cli(home, 'gui', 'edit', '--port', String(guiPort));
    await cli(home, 'commit', '-m', 'test ports');
    proc = await startGatewayProcess(home);
    assert.match(proc.output(), new RegExp(`GUI: https://127\\.0\\.0\\.1:${guiPort}/`));
    base = `https://127.0.0.1:${guiPort}`;
    ca = createOpensslCa('gatehouse-gui-ca-');
    browser = await launchChromium();
    page = browser.page;
  });

  after(async () => {
    await browser?.close();
    if (proc !== undefined && proc.child.exitCode === null) {
      proc.child.kill('SIGTERM');
      await proc.exited;
    }
    ca?.cleanup();
  });

  test('login (the demo-certificate warning shows)', async () => {
    await page.goto(`${base}/`);
    assert.match(page.url(), /\/login$/);
    await screenshot(page, '00-login');
    await page.fill('#password', 'wrong password');
    await page.click('button[type=submit]');
    assert.match(await page.textContent('.form-error') ?? '', /Wrong user name or password/);
    await page.fill('#password', password);
    await page.click('button[type=submit]');
    await page.waitForURL(/\/certificates$/);
    assert.ok(await page.isVisible('#demo-banner'));
  });

  test('create a self-signed certificate, download its CSR, upload the CA-signed certificate', async () => {
    await page.fill('#f-certificate-new-name', 'Mx');
    await page.fill('#f-certificate-new-cn', 'mx.gw.test');
    await page.click('form[data-form="certificate-new"] button[type=submit]');
    await page.waitForSelector('.flash-ok');
    assert.match((await page.textContent('.flash-ok')) ?? '', /Created self-signed certificate profile Mx/);
    assert.ok(await page.isVisible('#staged-banner'), 'the staged-changes banner shows');
    await screenshot(page, '01-certificates');

    await page.click('a[href="/certificates/Mx"]');
    await page.waitForURL(/\/certificates\/Mx$/);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#csr-download')]);
    const csrFile = path.join(work, 'mx.csr');
    await download.saveAs(csrFile);
    assert.match(fs.readFileSync(csrFile, 'utf8'), /BEGIN CERTIFICATE REQUEST/);
    const signed = ca.signCsr(csrFile, { issuer: 'intermediate', days: 30 });

    await page.setInputFiles('#f-certificate-upload_Mx-certificate', signed);
    await page.setInputFiles('#f-certificate-upload_Mx-intermediates', ca.intermediate.cert);
    await page.click('form[data-form="certificate-upload:Mx"] button[type=submit]');
    await page.waitForSelector('.flash-ok');
    assert.match((await page.textContent('.flash-ok')) ?? '', /Uploaded the certificate for profile Mx/);
    assert.match((await page.textContent('main')) ?? '', /OpenSSL Test Intermediate|Intermediate/);
    await screenshot(page, '02-certificate-detail');
  });

  test('assign it to a listener, commit, and the listener serves the new chain', async () => {
    await page.goto(`${base}/listeners`);
    await screenshot(page, '03-listeners');
    await page.click('a[href="/listeners/IncomingMail"]');
    await page.fill('#f-listener-edit_IncomingMail-certificates', 'Mx');
    await page.click('form[data-form="listener-edit:IncomingMail"] button[type=submit]');
    await page.waitForSelector('.flash-ok');
    await screenshot(page, '04-listener');

    await page.goto(`${base}/configuration`);
    const changes = (await page.textContent('#changes-list')) ?? '';
    assert.match(changes, /certificates\[Mx\]/);
    assert.match(changes, /IncomingMail/);
    await screenshot(page, '05-configuration-staged');
    await page.fill('#f-config-commit-comment', 'CA-signed certificate for IncomingMail');
    await page.click('#commit-form button[type=submit]');
    await page.waitForSelector('.flash-ok');
    assert.match((await page.textContent('.flash-ok')) ?? '', /Committed configuration version \d+ and applied it/);
    assert.ok(!(await page.isVisible('#staged-banner')));
    await screenshot(page, '06-configuration-committed');

    const chain = sClientChain(smtpPort);
    assert.match(chain, /CN ?= ?mx\.gw\.test/);
    assert.match(chain, /OpenSSL Test Intermediate/i);
    assert.doesNotMatch(chain, /Gatehouse Demo Certificate/);
  });

  test('a destination set to required-verify shows in the table', async () => {
    await page.goto(`${base}/destinations`);
    await page.fill('#f-destination-new-domain', 'partner.example');
    await page.selectOption('#f-destination-new-tls', 'required-verify');
    await page.click('form[data-form="destination-new"] button[type=submit]');
    await page.waitForSelector('.flash-ok');
    const row = page.locator('tr', { hasText: 'partner.example' }).first();
    assert.match((await row.textContent()) ?? '', /required-verify/);
    await screenshot(page, '07-destinations');
  });

  test('trust the test CA, then TLS Verify against the listener shows every step and succeeds', async () => {
    await page.goto(`${base}/certificates`);
    await page.setInputFiles('#f-truststore-import-bundle', ca.root.cert);
    await page.click('form[data-form="truststore-import"] button[type=submit]');
    await page.waitForSelector('.flash-ok');
    await page.goto(`${base}/configuration`);
    await page.fill('#f-config-commit-comment', 'trust the test CA');
    await page.click('#commit-form button[type=submit]');
    await page.waitForSelector('.flash-ok');

    await page.goto(`${base}/tlsverify`);
    await page.fill('#tlsverify-form input[name=domain]', 'mx.gw.test');
    await page.fill('#tlsverify-form input[name=host]', `127.0.0.1:${smtpPort}`);
    await page.click('#tlsverify-form button[type=submit]');
    await page.waitForSelector('#verdict', { timeout: 30_000 });
    await page.waitForFunction("!/Running/.test(document.getElementById('verdict')?.textContent ?? 'Running')", undefined, { timeout: 30_000 });
    const steps = (await page.textContent('#steps')) ?? '';
    assert.match(steps, new RegExp(`Connecting to 127\\.0\\.0\\.1 on port ${smtpPort}\\.`));
    assert.match(steps, /TLS connection established: protocol TLSv1\.[23]/);
    assert.match((await page.textContent('#verdict')) ?? '', /TLS verification completed/);
    await screenshot(page, '08-tlsverify');
  });

  test('the TLS report draws its charts (canvas present and painted)', async () => {
    // The gateway writes its TLS counters every 10 s; wait until the STARTTLS connections above are in.
    const deadline = Date.now() + 40_000;
    for (;;) {
      const r = await page.request.get(`${base}/api/report/tls?since=1h`);
      const j = (await r.json()) as { report?: { inbound: { totals: { connections: number } } } };
      if ((j.report?.inbound.totals.connections ?? 0) > 0) break;
      if (Date.now() > deadline) throw new Error(`no inbound connection in the report: ${JSON.stringify(j)}`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    await page.goto(`${base}/report?since=24h`);
    await page.waitForSelector('#chart-inbound canvas');
    await page.waitForSelector('#chart-outbound canvas');
    // Evaluated in the page (the suite is compiled without DOM types).
    const painted = (await page.evaluate(`(() => {
      const canvas = document.querySelector('#chart-inbound canvas');
      const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let opaque = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) opaque++;
      return { width: canvas.width, height: canvas.height, opaque };
    })()`)) as { width: number; height: number; opaque: number };
    assert.ok(painted.width > 0 && painted.height > 0, JSON.stringify(painted));
    assert.ok(painted.opaque > 100, `the chart canvas is blank: ${JSON.stringify(painted)}`);
    const table = (await page.textContent('main')) ?? '';
    assert.match(table, /Inbound by domain/);
    await screenshot(page, '09-report');
  });

  test('mail logs and message tracking, alerts: the pages render with data', async () => {
    await page.goto(`${base}/tracking?since=1h`);
    assert.match((await page.textContent('#tail')) ?? '', /New SMTP ICID \d+ interface IncomingMail/);
    await screenshot(page, '10-tracking');
    const r = await page.goto(`${base}/alerts`);
    assert.equal(r?.status(), 200);
    await screenshot(page, '11-alerts');
  });
});
