import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configSchema } from '../config/schema.js';
import { compileDestinationControls } from './destination-controls.js';

const dc = configSchema.shape.destinationControls.parse({
  default: { tls: 'preferred' },
  domains: [
    { domain: 'example.com', tls: 'required' },
    { domain: '.example.com', tls: 'preferred-verify' },
    { domain: '.sub.example.com', tls: 'required-verify' },
    { domain: '[192.0.2.7]', tls: 'no' },
  ],
});

test('exact, then nearest .parent, then default; [ip] by next-hop address', () => {
  const c = compileDestinationControls(dc);
  assert.deepEqual([c.forDomain('example.com').matched, c.forDomain('example.com').settings.tls], ['example.com', 'required']);
  assert.equal(c.forDomain('EXAMPLE.com.').matched, 'example.com');
  assert.equal(c.forDomain('a.example.com').matched, '.example.com');
  assert.equal(c.forDomain('a.sub.example.com').settings.tls, 'required-verify');
  assert.equal(c.forDomain('sub.example.com').matched, '.example.com');
  assert.equal(c.forDomain('other.test').matched, 'default');
  assert.equal(c.forDomain('notexample.com').matched, 'default');
  assert.equal(c.forHop('example.com', '192.0.2.7').matched, '[192.0.2.7]');
  assert.equal(c.forHop('example.com', '::ffff:192.0.2.7').settings.tls, 'no');
  assert.equal(c.forHop('example.com', '192.0.2.8').matched, 'example.com');
});
