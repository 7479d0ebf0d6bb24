/**
 * doctor's verdict levels (OK, WARN, FAIL, skipped): the exit status each earns, the text form,
 * and a check that throws, which is a FAIL under its own name rather than a crash of doctor.
 * The checks themselves are tested on the real lab (cli-doctor).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  doctorExitStatus, doctorReport, fail, formatDoctor, ok, overallLevel, skipped, warn, type DoctorCheck, type DoctorContext,
} from '../src/commands/doctor-report.js';
import { runChecks } from '../src/commands/doctor.js';
import { EXIT } from '../src/cli/exit-codes.js';

const ctx: DoctorContext = {
  ifname: 'eth0', link: null, daemon: null, daemonNote: null, daemonAbsent: true, daemonWhy: 'none', runDir: '/run/dot1x-operstate',
  auth: 'wpa-supplicant', wpaCtrl: '/run/wpa_supplicant', enforce: false,
};

test('doctor levels: a FAIL exits 1, a WARN alone 3, OK and skipped 0', () => {
  const allOk = doctorReport('eth0', [ok('interface', 'fine'), skipped('nftables', '--enforce not used')]);
  const warned = doctorReport('eth1', [ok('interface', 'fine'), warn('port', 'starts unanswered', 'check the switch port')]);
  const failed = doctorReport('eth2', [warn('port', 'x', 'y'), fail('daemon', 'none runs', 'start it')]);
  assert.deepEqual([allOk.level, warned.level, failed.level], ['ok', 'warn', 'fail']);
  assert.deepEqual([allOk.ok, warned.ok, failed.ok], [true, false, false]);
  assert.equal(doctorExitStatus(overallLevel([allOk])), EXIT.OK);
  assert.equal(doctorExitStatus(overallLevel([allOk, warned])), 3);
  assert.equal(doctorExitStatus(overallLevel([warned, failed, allOk])), EXIT.RUNTIME);
});

test('doctor text: WARN and FAIL each with their fix below; the summary counts both', () => {
  const text = formatDoctor([doctorReport('eth0', [
    ok('interface', 'eth0 exists'),
    warn('eapol-start', '2 EAPOL-Starts unanswered', 'check the switch port'),
    fail('authentication', 'credentials-rejected', 'fix the password'),
    skipped('nftables', '--enforce not used'),
  ])]);
  assert.deepEqual(text.split('\n'), [
    'eth0: 1 failed, 1 warning',
    '  ok    interface       eth0 exists',
    '  WARN  eapol-start     2 EAPOL-Starts unanswered',
    '                        fix: check the switch port',
    '  FAIL  authentication  credentials-rejected',
    '                        fix: fix the password',
    '  -     nftables        --enforce not used',
  ]);
});

test('doctor text escapes control characters in verdicts and fixes', () => {
  const text = formatDoctor([doctorReport('eth0', [fail('daemon', 'state \x1b]0;owned\x07\rFAIL', 'x\ny')])]);
  assert.doesNotMatch(text, /[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
  assert.match(text, /state \\x1b\]0;owned\\x07\\x0dFAIL/);
  assert.equal(text.split('\n').length, 3, 'no forged line');
});

test('a check that throws is a FAIL under its name; the checks after it still run', async () => {
  const boom: DoctorCheck = { name: 'certificates', run: () => { throw new Error('EACCES: /etc/ssl/private'); } };
  const several: DoctorCheck = { name: 'pair', run: () => [ok('pair-a', 'a'), warn('pair-b', 'b', 'do b')] };
  const none: DoctorCheck = { name: 'quiet', run: () => [] };
  const later: DoctorCheck = { name: 'later', run: async () => ok('later', 'ran') };
  const results = await runChecks([boom, several, none, later], ctx);
  assert.deepEqual(results.map((r) => [r.check, r.status]), [['certificates', 'fail'], ['pair-a', 'ok'], ['pair-b', 'warn'], ['later', 'ok']]);
  assert.match(results[0]!.verdict, /^could not check: EACCES: \/etc\/ssl\/private$/);
  assert.notEqual(results[0]!.fix, null);
});
