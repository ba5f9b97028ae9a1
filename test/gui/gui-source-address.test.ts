/**
 * The outbound source addresses in the Destination Controls page's global
 * settings form and its API call (`PATCH /api/destination-settings`): the same
 * checks as `destconfig setup`, blank means "the OS chooses".
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startGuiHarness, type GuiHarness } from './gui-client.js';

describe('GUI: outbound source addresses', () => {
  let h: GuiHarness;
  before(async () => {
    h = await startGuiHarness();
  });
  after(async () => {
    await h.stop();
  });
  const controls = () => h.deps.home.store.working().destinationControls;

  test('the API stages both addresses and refuses the wrong family with a clear error', async () => {
    const c = h.client();
    await c.loginOk();
    const set = await c.api('PATCH', '/api/destination-settings', { sourceAddressV4: '127.0.0.2', sourceAddressV6: '::1' });
    assert.equal(set.status, 200, JSON.stringify(set.json));
    assert.equal(controls().sourceAddressV4, '127.0.0.2');
    assert.equal(controls().sourceAddressV6, '::1');
    const wrong = await c.api('PATCH', '/api/destination-settings', { sourceAddressV4: '::1' });
    assert.equal(wrong.status, 400);
    assert.match(JSON.stringify(wrong.json), /source address ::1 is an IPv6 address; the IPv4 source address must be an IPv4 address/);
    assert.equal(controls().sourceAddressV4, '127.0.0.2', 'unchanged');
    const cleared = await c.api('PATCH', '/api/destination-settings', { sourceAddressV6: null });
    assert.equal(cleared.status, 200, JSON.stringify(cleared.json));
    assert.equal(controls().sourceAddressV6, null);
  });

  test('the global settings form shows the fields; a blank field lets the OS choose', async () => {
    const c = h.client();
    await c.loginOk();
    const page = await (await c.request('/destinations')).text();
    assert.match(page, /<label for="[^"]+">Source address \(IPv4\)<\/label><input[^>]*name="sourceAddressV4"[^>]*value="127\.0\.0\.2"/);
    assert.match(page, /name="sourceAddressV6"/);
    const posted = await c.form('destination-setup', { _form: 'destination-setup', certificate: 'none', alertOnRequiredTlsFailure: 'on', sourceAddressV4: '', sourceAddressV6: '::1' });
    assert.equal(posted.status, 303);
    assert.equal(controls().sourceAddressV4, null);
    assert.equal(controls().sourceAddressV6, '::1');
  });
});
