// Pure parsing of wpa_supplicant control-interface text (unit tests; the lab tests cover the rest).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { credentialRequest, eapMethodOf, isEvent, loggable, parseEvent } from '../src/wpa/events.js';
import { parseStatus } from '../src/wpa/status.js';
import { networkIds } from '../src/wpa/network.js';
import { cost } from './lab/cost.js';

test('events: level, text and name; replies are not events', () => {
  assert.deepEqual(parseEvent('<3>CTRL-EVENT-EAP-SUCCESS EAP authentication completed successfully'), {
    level: 3, text: 'CTRL-EVENT-EAP-SUCCESS EAP authentication completed successfully', name: 'CTRL-EVENT-EAP-SUCCESS',
  });
  assert.equal(parseEvent('<2>CTRL-EVENT-TERMINATING\n')?.name, 'CTRL-EVENT-TERMINATING');
  assert.equal(isEvent('PONG\n'), false);
  assert.equal(isEvent('<3>X'), true);
});

test('malformed lines parse to null (logged and ignored by the caller)', () => {
  for (const bad of ['<>X', '<3>', '<x>CTRL-EVENT', '<3> leading space', '<123>TOO-LONG-LEVEL', '3>CTRL', '']) {
    assert.equal(parseEvent(bad), null, JSON.stringify(bad));
  }
});

test('a 64 KiB event line parses whole', () => {
  const hex = 'ab'.repeat(32 * 1024 - 64);
  const ev = parseEvent(`<3>CTRL-EVENT-EAP-PEER-CERT depth=0 subject='/CN=x' cert=${hex}`);
  assert.equal(ev?.name, 'CTRL-EVENT-EAP-PEER-CERT');
  assert.ok(ev!.text.endsWith(hex));
});

test('CTRL-REQ-*: field name only; the prompt never reaches a log line', () => {
  const ev = parseEvent('<3>CTRL-REQ-PASSWORD-0:Password needed for SSID ')!;
  assert.equal(ev.name, 'CTRL-REQ-PASSWORD');
  assert.deepEqual(credentialRequest(ev.text), { field: 'PASSWORD', networkId: '0' });
  assert.equal(loggable(ev), 'CTRL-REQ-PASSWORD');
  assert.equal(credentialRequest('CTRL-REQ-OTP-12:Challenge 1235 needed for SSID x')?.field, 'OTP');
  assert.equal(credentialRequest('CTRL-EVENT-EAP-SUCCESS'), null);
});

test('EAP method from CTRL-EVENT-EAP-METHOD', () => {
  assert.equal(eapMethodOf(parseEvent('<3>CTRL-EVENT-EAP-METHOD EAP vendor 0 method 25 (PEAP) selected')!), 'PEAP');
  assert.equal(eapMethodOf(parseEvent('<3>CTRL-EVENT-EAP-STARTED EAP authentication started')!), undefined);
});

test('STATUS on wired: PAE, suppPortStatus, method; PAE absent while DISCONNECTED', () => {
  const s = parseStatus([
    'bssid=01:80:c2:00:00:03', 'wpa_state=COMPLETED', 'Supplicant PAE state=AUTHENTICATED',
    'suppPortStatus=Authorized', 'EAP state=SUCCESS', 'selectedMethod=4 (EAP-MD5)', '',
  ].join('\n'));
  assert.equal(s.pae, 'AUTHENTICATED');
  assert.equal(s.authorized, true);
  assert.equal(s.method, 'MD5');
  assert.equal(s.wpaState, 'COMPLETED');
  const d = parseStatus('wpa_state=DISCONNECTED\naddress=02:00:00:00:00:01\n');
  assert.equal(d.pae, undefined);
  assert.equal(d.authorized, false);
  // COMPLETED alone never means authorized.
  assert.equal(parseStatus('wpa_state=COMPLETED\nSupplicant PAE state=HELD\nsuppPortStatus=Unauthorized\n').authorized, false);
});

test('hostile event and STATUS text parses in linear time (no regex backtracking on peer input)', () => {
  const n = 64 * 1024;
  const cases: Array<[string, () => unknown, () => unknown]> = [
    ['newlines before the last byte', () => parseEvent(`<${'\n'.repeat(n)}x`), () => parseEvent(`<${'a'.repeat(n)}x`)],
    ['an EAP-METHOD event of open parentheses',
      () => eapMethodOf({ level: 3, name: 'CTRL-EVENT-EAP-METHOD', text: `CTRL-EVENT-EAP-METHOD ${'('.repeat(n)}` }),
      () => eapMethodOf({ level: 3, name: 'CTRL-EVENT-EAP-METHOD', text: `CTRL-EVENT-EAP-METHOD ${'a'.repeat(n)}` })],
    ['a selectedMethod of open parentheses', () => parseStatus(`selectedMethod=${'('.repeat(n)}`), () => parseStatus(`selectedMethod=${'a'.repeat(n)}`)],
  ];
  for (const [what, hostile, harmless] of cases) {
    const base = cost(harmless);
    const bad = cost(hostile);
    // Quadratic backtracking costs seconds here against well under a millisecond.
    assert.ok(bad < 50 * base + 20, `${what}: ${bad.toFixed(1)} ms against ${base.toFixed(2)} ms for harmless text of the same size`);
  }
  assert.equal(parseEvent(`<3>CTRL-EVENT-X${'\n'.repeat(1000)}`)?.text, 'CTRL-EVENT-X');
  assert.equal(parseStatus('selectedMethod=25 (EAP-PEAP)\n').method, 'PEAP');
  assert.equal(parseStatus('selectedMethod=4 (MD5)\n').method, 'MD5');
  assert.equal(eapMethodOf(parseEvent('<3>CTRL-EVENT-EAP-METHOD EAP vendor 0 method 4 (x) (MD5) selected')!), 'MD5');
});

test('LIST_NETWORKS: the ids of the configured networks', () => {
  assert.deepEqual(networkIds('network id / ssid / bssid / flags\n0\t\tany\t[CURRENT]\n3\twired\tany\t\n'), ['0', '3']);
  assert.deepEqual(networkIds('network id / ssid / bssid / flags\n'), []);
});
