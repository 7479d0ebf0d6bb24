/**
 * What an administrator does with the unit as shipped, under systemd (docs/systemd.md):
 * `systemctl status` shows the daemon's STATUS= line, `systemctl reload` authenticates again,
 * `systemctl stop` gives the port back (linkmode 0, UP); and the options that reach outside the
 * daemon work inside the unit's sandbox: --enforce runs nft, --metrics-file writes a file
 * node_exporter (another user) can read, and a hook in the default hooks directory runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, watch } from 'node:fs';
import { dirname } from 'node:path';
import { needsRoot } from './lab/netns.js';
import { is } from './lab/link-watch.js';
import { sharedSystemLab } from './lab/system-lab.js';
import { MESSAGE_ID, entry } from './lab/journal.js';
import { assertGateKept } from './lab/gate-timeline.js';

const UNIT = 'dot1x-operstate@eth0.service';

/**
 * The text of PATH once it matches RE: the daemon rewrites its metrics file (a rename into place)
 * shortly after each change, so the directory is watched (inotify) until it does; bounded.
 */
function fileMatching(path: string, re: RegExp, timeoutMs = 10_000): Promise<string> {
  const text = (): string => { try { return readFileSync(path, 'utf8'); } catch (e) { return (e as Error).message; } };
  const read = (): string | null => { const s = text(); return re.test(s) ? s : null; };
  return new Promise((resolve, reject) => {
    const done = (text: string | null, err?: Error): void => {
      watcher.close();
      clearTimeout(timer);
      if (text !== null) resolve(text); else reject(err);
    };
    const watcher = watch(dirname(path), () => { const s = read(); if (s !== null) done(s); });
    const timer = setTimeout(() => done(null, new Error(`${path} did not match ${re} within ${timeoutMs} ms:\n${text()}`)), timeoutMs);
    const now = read();
    if (now !== null) done(now);
  });
}
const HOOK_EVENTS = '/run/dot1x-operstate/hook-events';
const lab = sharedSystemLab({
  prefix: 'syo',
  files: {
    // A hook as an administrator installs one: root's, mode 0755, in the default directory.
    '/etc/dot1x-operstate/hooks.d/50-record': {
      content: `#!/bin/sh\n# system lab: records each event where the test reads it\necho "$2 $1" >> ${HOOK_EVENTS}\n`,
      mode: 0o755,
    },
  },
});

test('systemctl status shows the STATUS= line, reload authenticates again, stop gives the port back (linkmode 0, UP)', async (t) => {
  if (!needsRoot(t)) return;
  const l = await lab(t);
  await l.openWith(UNIT);
  const status = await l.exec('systemctl', ['status', '--no-pager', UNIT]);
  assert.match(status.stdout, /^\s+Status: "eth0: open"$/m);

  const reload = l.note('systemctl reload');
  const events = l.switchEvents.mark();
  await l.systemctl('reload', UNIT);
  await l.switchEvents.waitFor('CTRL-EVENT-EAP-STARTED', { from: events });
  await l.switchEvents.waitFor('CTRL-EVENT-EAP-SUCCESS', { from: events });
  // A re-authentication that succeeds keeps the port open throughout.
  assert.equal(l.watch.findSince(reload, (r) => !r.running), undefined, 'the port closed during a successful re-authentication');
  assert.ok(is.open()(l.watch.current!));
  assertGateKept(l.watch, reload);
  assert.equal((await l.show(UNIT, 'StatusText')).StatusText, 'eth0: open');

  const j = l.journal.mark();
  const stop = l.note('systemctl stop');
  await l.systemctl('stop', UNIT);
  await l.watch.until(is.restored(), 'linkmode 0 and UP', { since: stop, timeoutMs: 5000 });
  const shown = await l.show(UNIT, 'ActiveState', 'Result');
  assert.deepEqual([shown.ActiveState, shown.Result], ['inactive', 'success']);
  // ExecStopPost= after a clean stop: reset, which finds the port already given back.
  await l.journal.waitFor(entry.fromUnit(UNIT, /^eth0: linkmode 0 \(default\), operstate UP$/), 'ExecStopPost\'s reset', { from: j });
  await l.journal.waitFor(entry.aboutUnit(UNIT, { id: MESSAGE_ID.unitSuccess }), 'the unit deactivated successfully', { from: j });
  assert.equal(l.watch.findSince(stop, (r) => r.linkmode === 1 && r.operstate === 'DORMANT'), undefined, 'the port was closed on a clean stop');
});

test('--enforce, --metrics-file and the default hooks directory work inside the shipped sandbox', async (t) => {
  if (!needsRoot(t)) return;
  const l = await lab(t);
  const dir = '/var/lib/prometheus/node-exporter';
  const metrics = `${dir}/dot1x-operstate-eth0.prom`;
  // What prometheus-node-exporter's package makes, and the drop-in the unit's comment shows.
  assert.equal((await l.exec('mkdir', ['-p', dir])).code, 0);
  l.writeFile('/etc/systemd/system/dot1x-operstate@eth0.service.d/features.conf', [
    '[Service]',
    'ExecStart=',
    'ExecStart=/usr/bin/dot1x-operstate %I --wpa-ctrl /run/wpa_supplicant --enforce --metrics-file /var/lib/prometheus/node-exporter/dot1x-operstate-%I.prom',
    `ReadWritePaths=${dir}`,
    '',
  ].join('\n'));
  t.after(async () => {
    await l.exec('rm', ['-f', '/etc/systemd/system/dot1x-operstate@eth0.service.d/features.conf']);
    await l.exec('systemctl', ['daemon-reload']);
  });
  await l.systemctl('daemon-reload');
  const start = l.note('systemctl restart with --enforce and --metrics-file');
  await l.systemctl('restart', UNIT);
  await l.watch.until(is.open(), 'the port open', { since: start, timeoutMs: 30_000 });

  // nft ran inside the sandbox: the table is there, its set empty while the port is open.
  const table = await l.exec('nft', ['list', 'table', 'netdev', 'dot1x_operstate_eth0']);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /set closed \{/);
  assert.doesNotMatch(table.stdout, /elements = \{ "eth0" \}/);

  // The metrics file, readable by node_exporter's own user (0644 whatever the unit's UMask=0077).
  const text = await fileMatching(l.path(metrics), /^dot1x_operstate_authorized\{interface="eth0"\} 1$/m);
  assert.match(text, /^dot1x_operstate_attempts_total\{interface="eth0",cause="success"\} [1-9]/m);
  assert.equal(statSync(l.path(metrics)).mode & 0o777, 0o644);

  // The hook ran for the open, inside the sandbox.
  const hook = await l.exec('cat', [HOOK_EVENTS]);
  assert.match(hook.stdout, /^open eth0$/m, hook.stderr);

  // A stop removes the table and gives the port back.
  const stop = l.note('systemctl stop');
  await l.systemctl('stop', UNIT);
  await l.watch.until(is.restored(), 'linkmode 0 and UP', { since: stop, timeoutMs: 5000 });
  assert.notEqual((await l.exec('nft', ['list', 'table', 'netdev', 'dot1x_operstate_eth0'])).code, 0, 'the table is left after a stop');
});
