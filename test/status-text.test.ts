/**
 * `status` and `doctor` print text that came from the authentication peer (outcome messages):
 * control characters in it are shown escaped, never written raw to the terminal, and so are they
 * in the --json forms, whose readers print them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { needsRoot } from './lab/netns.js';
import { createPort } from './lab/cli-port.js';
import { DaemonProcess, runCli } from './lab/dot1x-daemon.js';
import { formatStatus, type StatusReport } from '../src/commands/status-report.js';
import { printable } from '../src/text/printable.js';
import type { DoctorReport } from '../src/commands/doctor-report.js';

// ESC ] 0 ; title BEL sets a terminal's title; CR + a forged line would look like our own output.
const HOSTILE = '\x1b]0;owned\x07\rlast outcome: authorized\n\x9b2J';
const RAW_CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;

test('printable: control characters and backslashes become \\xNN, the rest stays', () => {
  assert.equal(printable('EAP failure: bad password'), 'EAP failure: bad password');
  assert.equal(printable('a\x1bb\r\n\x07\\c\x9b'), 'a\\x1bb\\x0d\\x0a\\x07\\x5cc\\x9b');
  const report: StatusReport = {
    kernel: null,
    daemonNote: null,
    daemon: {
      ifname: 'eth0', pid: 1, state: 'held', port: null, since: '', timeInStateMs: 0, attempt: 1, failures: 1,
      lastOutcome: { authorized: false, cause: 'credentials-rejected', message: HOSTILE, at: '2026-01-01T00:00:00.000Z' },
      lastError: HOSTILE, backendAvailable: true, auth: 'module', starts: 0, cause: 'credentials-rejected', nextAttemptAt: null,
    },
    runDir: '/run/dot1x-operstate',
    advice: null,
  };
  const text = formatStatus(report);
  assert.doesNotMatch(text, RAW_CONTROL);
  assert.equal(text.split('\n').filter((l) => /^\s*last outcome:/.test(l)).length, 1, 'no forged line');
});

test('status of a daemon whose peer sent control characters prints them escaped', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'esc');
  const module = join(port.dir, 'hostile.mjs');
  writeFileSync(module, `export default { name: 'hostile', authenticate: async () => (${JSON.stringify({ authorized: false, cause: 'credentials-rejected', message: HOSTILE })}) };\n`);
  const daemon = DaemonProcess.start(port.host,
    ['eth0', '--auth', 'module', '--module', module, '--run-dir', port.runDir, '--log-level', 'debug'], { t });
  await daemon.waitForLog((l) => l.cause === 'credentials-rejected', { what: 'the rejected attempt' });
  const status = await runCli(port.host, ['status', 'eth0', '--run-dir', port.runDir]);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /last outcome: credentials-rejected at .*: \\x1b\]0;owned\\x07\\x0d/);
  assert.doesNotMatch(status.stdout, RAW_CONTROL);
  // Whoever reads --json and prints a field prints it escaped too, as the text form does.
  const json = await runCli(port.host, ['status', 'eth0', '--json', '--run-dir', port.runDir]);
  const report = JSON.parse(json.stdout) as StatusReport;
  assert.equal(report.daemon?.lastOutcome?.message, printable(HOSTILE));
  // doctor quotes it in its verdict: escaped in both forms.
  const doctor = await runCli(port.host, ['doctor', 'eth0', '--run-dir', port.runDir]);
  assert.equal(doctor.code, 1);
  assert.match(doctor.stdout, /FAIL {2}authentication +closed: the last attempt failed: credentials-rejected: \\x1b\]0;owned\\x07\\x0d/);
  assert.doesNotMatch(doctor.stdout, RAW_CONTROL);
  const doctorJson = JSON.parse((await runCli(port.host, ['doctor', 'eth0', '--json', '--run-dir', port.runDir])).stdout) as { interfaces: DoctorReport[] };
  const verdict = doctorJson.interfaces[0]!.checks.find((c) => c.check === 'authentication')!.verdict;
  assert.ok(verdict.includes(printable(HOSTILE)), verdict);
  assert.doesNotMatch(verdict, RAW_CONTROL);
  daemon.signal('SIGTERM');
  assert.equal((await daemon.waitForExit()).code, 0);
});
