/**
 * The systemd unit's claim: CAP_NET_ADMIN is the only capability the daemon needs (root keeps
 * its file ownership, so root-owned control and runtime directories stay reachable). Root
 * without CAP_NET_ADMIN, as in a container that lacks it, gets the one-line EPERM message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needsRoot } from './lab/netns.js';
import { Lab } from './lab/lab.js';
import { is } from './lab/link-watch.js';
import { createPort } from './lab/cli-port.js';
import { DaemonProcess, runCli } from './lab/dot1x-daemon.js';

/** Root, with every capability but WANTED dropped from all sets (setpriv(1)). */
function onlyCaps(wanted: string): string[] {
  const caps = wanted === '' ? '-all' : `-all,+${wanted}`;
  return ['setpriv', `--bounding-set=${caps}`, `--inh-caps=-all`, '--no-new-privs', '--'];
}

test('with CAP_NET_ADMIN alone: authorizes through real wpa_supplicant and restores on SIGTERM', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await Lab.create({ t, prefix: 'cap', withDaemon: false });
  const d = DaemonProcess.start(lab.host, lab.daemonArgv(), { t, wrap: onlyCaps('net_admin') });
  await d.waitForState(lab.ifname, 'authorized.steady', { timeoutMs: 15_000 });
  await lab.watch.until(is.open(), 'the gate open');
  const status = await lab.cli(['status', lab.ifname, '--json', '--run-dir', lab.runDir]);
  assert.equal(JSON.parse(status.stdout).daemon?.state, 'authorized.steady');
  d.signal('SIGTERM');
  const exit = await d.waitForExit();
  assert.equal(exit.code, 0, exit.stderr);
  await lab.watch.until(is.restored(), 'restored');
});

test('root without CAP_NET_ADMIN: exit 1, one line naming CAP_NET_ADMIN, link untouched', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'nocap');
  const before = await port.link();
  const r = await runCli(port.host, port.execArgs(port.script('ok.sh', 'exit 0')), { wrap: onlyCaps('') });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^dot1x-operstate: setLink eth0: EPERM \(operation not permitted: CAP_NET_ADMIN is needed, run as root\)\n$/);
  const after = await port.link();
  assert.equal(after.linkmode, before.linkmode);
  assert.equal(after.operstate, before.operstate);
  const reset = await runCli(port.host, ['reset', 'eth0'], { wrap: onlyCaps('') });
  assert.equal(reset.code, 1);
  assert.match(reset.stderr, /CAP_NET_ADMIN/);
});
