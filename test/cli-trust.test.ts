/**
 * `status` and `doctor` believe only the daemon: an unprivileged user's process that looks like
 * one (its command line names dot1x-operstate, the port and a run directory of that user's) and
 * serves a forged status with raw escape sequences is not taken for it, whether found through
 * /proc or named with --run-dir; nothing it says reaches root's terminal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { needsRoot } from './lab/netns.js';
import { createPort } from './lab/cli-port.js';
import { runCli } from './lab/dot1x-daemon.js';
import { withTimeout } from './lab/auth-lab.js';
import { AS_NOBODY } from './lab/readable-copy.js';
import type { StatusReport } from '../src/commands/status-report.js';
import type { DoctorReport } from '../src/commands/doctor-report.js';

const ESCAPES = '\x1b]0;owned\x07\x1b[2J\rstate authorized.steady';
const RAW_CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;
const NOBODY_UID = 65534;

test('a status socket served by another user is never taken for the daemon\'s', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'frg');
  const forged = join(port.dir, 'forged');
  mkdirSync(forged, { mode: 0o755 });
  chownSync(forged, NOBODY_UID, NOBODY_UID);
  // The forger's own program is a file named like ours, so that its command line reads
  // "node .../dot1x-operstate eth0 --run-dir DIR"; it answers both socket names a status
  // client of any version asks.
  const program = join(port.dir, 'dot1x-operstate');
  writeFileSync(program, `
    const net = require('node:net');
    const fs = require('node:fs');
    const dir = process.argv[4];
    const netns = fs.statSync('/proc/self/ns/net').ino;
    const text = ${JSON.stringify(ESCAPES)};
    const status = { ifname: 'eth0', pid: process.pid, state: 'authorized.steady' + text, port: 'inSync', since: text,
      timeInStateMs: 1, attempt: 1, failures: 0, starts: 0, cause: null, nextAttemptAt: null,
      lastOutcome: { authorized: true, cause: null, message: text, at: text }, lastError: text, backendAvailable: true,
      backendMessage: null, auth: 'exec' + text, netns };
    const names = ['eth0.sock', 'eth0.netns-' + netns + '.sock'];
    let listening = 0;
    for (const name of names) {
      net.createServer((c) => c.end(JSON.stringify(status) + '\\n')).listen(dir + '/' + name, () => {
        if (++listening === names.length) console.log('forging');
      });
    }
  `);
  chmodSync(program, 0o644);
  const [cmd, args] = port.host.argv(AS_NOBODY[0]!, [...AS_NOBODY.slice(1), process.execPath, program, 'eth0', '--run-dir', forged]);
  const forger = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => { forger.kill('SIGKILL'); });
  await withTimeout(new Promise<void>((resolve) => forger.stdout.once('data', () => resolve())), 10_000, 'the forger listening');
  assert.equal(statSync(join(forged, 'eth0.sock')).uid, NOBODY_UID);

  // Found through /proc (no daemon in the run directory root asks), and named with --run-dir.
  const env = { DOT1X_RUN_DIR: port.runDir };
  for (const extra of [[], ['--run-dir', forged]]) {
    const json = await runCli(port.host, ['status', 'eth0', '--json', ...extra], { env });
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout) as StatusReport;
    assert.equal(report.daemon, null, `the forged status was believed (${extra.join(' ')}): ${json.stdout}`);
    const human = await runCli(port.host, ['status', 'eth0', ...extra], { env });
    assert.doesNotMatch(human.stdout, RAW_CONTROL);
    assert.doesNotMatch(human.stdout, /authorized\.steady|owned/);

    const doctor = await runCli(port.host, ['doctor', 'eth0', '--auth', 'exec', ...extra], { env });
    assert.equal(doctor.code, 1);
    assert.doesNotMatch(doctor.stdout, RAW_CONTROL);
    assert.doesNotMatch(doctor.stdout, /owned|manages it/);
    const doctorJson = JSON.parse((await runCli(port.host, ['doctor', 'eth0', '--json', '--auth', 'exec', ...extra], { env })).stdout) as { interfaces: DoctorReport[] };
    const daemon = doctorJson.interfaces[0]!.checks.find((c) => c.check === 'daemon')!;
    assert.equal(daemon.status, 'fail');
    if (extra.length > 0) {
      assert.match(daemon.verdict, new RegExp(`^not asking .*: the run directory ${forged} belongs to uid ${NOBODY_UID}, not root`));
      assert.match(daemon.fix ?? '', /only a socket of root's in a run directory only root can change/);
    } else {
      assert.equal(daemon.verdict, 'no daemon runs for eth0: the port is not gated on 802.1X');
    }
  }
});
