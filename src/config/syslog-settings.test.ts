import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSyslogTarget, parseSyslogTarget, syslogTargetProblem } from './syslog-settings.js';

test('targets: udp/tcp, IPv4 or bracketed IPv6, port 1-65535', () => {
  assert.deepEqual(parseSyslogTarget('udp:192.0.2.10:514'), { transport: 'udp', host: '192.0.2.10', port: 514 });
  assert.deepEqual(parseSyslogTarget('TCP:[::1]:6514'), { transport: 'tcp', host: '::1', port: 6514 });
  assert.deepEqual(parseSyslogTarget(' tcp:[2001:db8::1]:1 '), { transport: 'tcp', host: '2001:db8::1', port: 1 });
  assert.equal(formatSyslogTarget(parseSyslogTarget('UDP:[::1]:514')), 'udp:[::1]:514');
});

test('bad targets are refused with the reason and the form to write', () => {
  const cases: [string, RegExp][] = [
    ['udp:syslog.example.com:514', /syslog\.example\.com is not an IPv4 address \(host names are not accepted\)/],
    ['udp:::1:514', /an IPv6 address must be in brackets/],
    ['udp:[192.0.2.1]:514', /192\.0\.2\.1 is not an IPv6 address/],
    ['udp:192.0.2.1:0', /the port must be 1-65535/],
    ['udp:192.0.2.1:65536', /the port must be 1-65535/],
    ['udp:192.0.2.1:', /the port must be 1-65535/],
    ['udp:192.0.2.1', /is not a syslog target/],
    ['tls:192.0.2.1:514', /the transport must be udp or tcp, not tls/],
    ['/dev/log', /a Unix socket such as \/dev\/log is not supported/],
    ['udp::514', /the host is empty/],
    ['', /is not a syslog target/],
  ];
  for (const [input, reason] of cases) {
    const problem = syslogTargetProblem(input);
    assert.ok(problem !== null, `${input} refused`);
    assert.match(problem, reason, input);
    assert.match(problem, /write udp:HOST:PORT or tcp:HOST:PORT/, input);
  }
  assert.equal(syslogTargetProblem('udp:127.0.0.1:514'), null);
});
