import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { before, test } from 'node:test';
import { createTestPki, type TestCert, type TestPki } from '../../test/harness/pki-fixture.js';
import { analyseChain, chainFailureText, isoDate, oneLineName, parseCertificates } from './chain-analysis.js';

const DAY = 86_400_000;
let pki: TestPki;
const x = (c: TestCert | string): crypto.X509Certificate => new crypto.X509Certificate(typeof c === 'string' ? c : c.certificatePem);
const reason = (sent: crypto.X509Certificate[], anchors: crypto.X509Certificate[], now = new Date()): string => {
  const v = analyseChain(sent, anchors, now);
  return v.ok ? `ok ${oneLineName(v.anchor.subject)}` : chainFailureText(v.failure);
};

before(async () => {
  pki = await createTestPki();
});

test('a complete chain to a trusted root verifies, in any order', async () => {
  const leaf = await pki.server(['mx.example.test']);
  const anchors = [x(pki.root)];
  assert.equal(reason([x(leaf), x(pki.intermediate)], anchors), 'ok O=Gatehouse Test PKI, CN=Gatehouse Test Root CA');
  const sub = await pki.ca('Sub CA', { issuer: 'intermediate' });
  const deep = await pki.server(['deep.example.test'], { issuer: sub });
  assert.match(reason([x(deep), x(pki.intermediate), x(sub)], anchors), /^ok /, 'order does not matter to path building');
  assert.match(reason([x(leaf), x(pki.intermediate), x(pki.root)], anchors), /^ok /, 'the root sent along is fine');
  assert.match(reason([x(leaf)], [x(pki.intermediate)]), /^ok .*Intermediate/, 'a trusted intermediate is an anchor');
});

test('each failure has its precise reason', async () => {
  const anchors = [x(pki.root)];
  const leaf = await pki.server(['mx.example.test']);
  assert.equal(reason([x(leaf), x(pki.intermediate), x(pki.intermediate)], anchors), 'duplicate intermediate O=Gatehouse Test PKI, CN=Gatehouse Test Intermediate CA');
  assert.equal(reason([x(leaf)], anchors), 'missing intermediate for CN=mx.example.test');
  const foreign = await pki.server(['foreign.example.test'], { issuer: 'otherRoot' });
  assert.equal(reason([x(foreign), x(pki.otherRoot)], anchors), 'untrusted root O=Gatehouse Test PKI, CN=Gatehouse Other Root CA');
  const foreignCa = await pki.ca('Foreign Intermediate', { issuer: 'otherRoot' });
  const foreignLeaf = await pki.server(['f2.example.test'], { issuer: foreignCa });
  assert.equal(reason([x(foreignLeaf), x(foreignCa)], anchors), 'untrusted root O=Gatehouse Test PKI, CN=Gatehouse Other Root CA', 'root left out: named by the top certificate\'s issuer');
  const now = new Date();
  const expired = await pki.server(['old.example.test'], { notBefore: new Date(now.getTime() - 30 * DAY), notAfter: new Date(now.getTime() - 2 * DAY) });
  assert.equal(reason([x(expired), x(pki.intermediate)], anchors, now), `certificate expired CN=old.example.test since ${isoDate(new Date(expired.certificate.validTo))}`);
  const future = await pki.server(['new.example.test'], { notBefore: new Date(now.getTime() + 2 * DAY), notAfter: new Date(now.getTime() + 30 * DAY) });
  assert.equal(reason([x(future), x(pki.intermediate)], anchors, now), 'certificate not yet valid CN=new.example.test');
  assert.equal(reason([], anchors), 'no certificate presented');
  assert.equal(reason([x(pki.otherRoot)], anchors), 'untrusted root O=Gatehouse Test PKI, CN=Gatehouse Other Root CA', 'a self-signed certificate alone');
});

test('an expired intermediate is found on the path', async () => {
  const now = new Date();
  const oldCa = await pki.ca('Old Intermediate', { issuer: 'root', notBefore: new Date(now.getTime() - 90 * DAY), notAfter: new Date(now.getTime() - DAY) });
  const leaf = await pki.server(['mx.example.test'], { issuer: oldCa });
  assert.match(reason([x(leaf), x(oldCa)], [x(pki.root)], now), /^certificate expired O=Gatehouse Test PKI, CN=Old Intermediate since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
});

test('parseCertificates skips what does not parse', () => {
  assert.equal(parseCertificates([Buffer.from('junk'), x(pki.root).raw]).length, 1);
});
