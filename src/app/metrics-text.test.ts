/** Unit tests of the Prometheus text rendering (format 0.0.4). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderMetrics } from './metrics-text.js';

test('renders HELP, TYPE and samples with labels in order', () => {
  const text = renderMetrics([
    { name: 'gatehouse_deliveries_total', help: 'Recipient deliveries.', type: 'counter', samples: [{ labels: { outcome: 'delivered' }, value: 3 }, { labels: { outcome: 'bounced' }, value: 0 }] },
    { name: 'gatehouse_queue_messages', help: 'Messages in the spool.', type: 'gauge', samples: [{ value: 7 }] },
  ]);
  assert.equal(
    text,
    [
      '# HELP gatehouse_deliveries_total Recipient deliveries.',
      '# TYPE gatehouse_deliveries_total counter',
      'gatehouse_deliveries_total{outcome="delivered"} 3',
      'gatehouse_deliveries_total{outcome="bounced"} 0',
      '# HELP gatehouse_queue_messages Messages in the spool.',
      '# TYPE gatehouse_queue_messages gauge',
      'gatehouse_queue_messages 7',
      '',
    ].join('\n'),
  );
});

test('escapes label values and help text; special float values', () => {
  const text = renderMetrics([{ name: 'x_g', help: 'a \\ b\nc', type: 'gauge', samples: [{ labels: { listener: 'a"b\\c\nd' }, value: NaN }, { value: Infinity }, { value: -Infinity }, { value: 0.5 }] }]);
  assert.match(text, /^# HELP x_g a \\\\ b\\nc$/m);
  assert.match(text, /^x_g\{listener="a\\"b\\\\c\\nd"\} NaN$/m);
  assert.match(text, /^x_g \+Inf$/m);
  assert.match(text, /^x_g -Inf$/m);
  assert.match(text, /^x_g 0\.5$/m);
});

test('refuses names the format does not allow, counters without _total and duplicates', () => {
  assert.throws(() => renderMetrics([{ name: 'bad-name', help: '', type: 'gauge', samples: [] }]), /invalid metric name/);
  assert.throws(() => renderMetrics([{ name: 'x_count', help: '', type: 'counter', samples: [] }]), /must end in _total/);
  assert.throws(() => renderMetrics([{ name: 'x', help: '', type: 'gauge', samples: [{ labels: { '0a': 'v' }, value: 1 }] }]), /invalid label name/);
  assert.throws(() => renderMetrics([{ name: 'x', help: '', type: 'gauge', samples: [] }, { name: 'x', help: '', type: 'gauge', samples: [] }]), /appears twice/);
});
