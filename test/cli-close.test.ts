/**
 * `dot1x-operstate close IFNAME` (src/commands/close.ts), what the unit's ExecStopPost= runs after
 * the daemon crashed: the port in linkmode 1 and DORMANT, confirmed from the kernel; a port
 * without carrier becomes DORMANT when carrier returns; an --enforce table a killed daemon left
 * lifted passes only EAPOL again; a running daemon is not raced; no CAP_NET_ADMIN, exit 1.
 * Under systemd: test/system-crash.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needsRoot } from './lab/netns.js';
import { createPort, openDaemon } from './lab/cli-port.js';
import { DaemonProcess, runCli } from './lab/dot1x-daemon.js';
import { LinkWatch, is } from './lab/link-watch.js';
import { listTable } from './lab/nft.js';
import { AS_NOBODY } from './lab/readable-copy.js';
import { tableName } from '../src/enforce/port-filter.js';

test('close puts an open port in linkmode 1 and DORMANT; reset opens it again', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'clo');
  const watch = await LinkWatch.open(port.host, 'eth0', { t });
  await watch.until(is.restored(), 'eth0 UP in linkmode 0');
  const closed = await runCli(port.host, ['close', 'eth0']);
  assert.equal(closed.code, 0, closed.stderr);
  assert.equal(closed.stdout, 'eth0: linkmode 1 (dormant), operstate DORMANT: closed until dot1x-operstate authenticates it (dot1x-operstate reset eth0 opens it without 802.1X)\n');
  const link = await port.link();
  assert.ok(is.gated()(link), `not closed: linkmode ${String(link.linkmode)} operstate ${link.operstate}`);
  assert.equal((await runCli(port.host, ['reset', 'eth0'])).code, 0);
  assert.ok(is.restored()(await port.link()));
});

test('close on a port without carrier: DORMANT as soon as carrier returns', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'clc');
  const watch = await LinkWatch.open(port.host, 'eth0', { t });
  await port.pullCable();
  await watch.until(is.noCarrier(), 'no carrier');
  const closed = await runCli(port.host, ['close', 'eth0']);
  assert.equal(closed.code, 0, closed.stderr);
  assert.match(closed.stdout, /^eth0: linkmode 1 \(dormant\), operstate (DOWN|LOWERLAYERDOWN): closed/);
  const back = watch.mark('carrier returns');
  await port.returnCable();
  await watch.until((r) => r.lowerUp, 'carrier back', { since: back });
  assert.equal(watch.findSince(back, (r) => r.running), undefined, 'the port came up open');
  await watch.until(is.gated(), 'DORMANT in linkmode 1', { since: back });
});

test('close after a killed --enforce daemon: its lifted table passes only EAPOL again', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'cle');
  const watch = await LinkWatch.open(port.host, 'eth0', { t });
  const daemon = DaemonProcess.start(port.host, port.execArgs(port.script('ok.sh', 'exit 0'), ['--enforce']), { t });
  await watch.until(is.open(), 'the port open');
  const table = tableName('eth0');
  await daemon.waitForLog((l) => l.msg === 'kernel shows operstate' && l.operstate === 'UP', { what: 'the open confirmed' });
  assert.doesNotMatch(await listTable(port.host, table), /elements = \{ "eth0" \}/, 'the filter is not lifted while open');
  daemon.signal('SIGKILL');
  await daemon.waitForExit();

  const closed = await runCli(port.host, ['close', 'eth0']);
  assert.equal(closed.code, 0, closed.stderr);
  assert.match(closed.stdout, new RegExp(`^eth0: the enforcement table ${table} passes only EAPOL again$`, 'm'));
  assert.match(await listTable(port.host, table), /elements = \{ "eth0" \}/);
  assert.ok(is.gated()(await port.link()));
  // reset removes it, as before.
  assert.equal((await runCli(port.host, ['reset', 'eth0'])).code, 0);
  await assert.rejects(listTable(port.host, table));
});

test('close refuses while a daemon manages the port (exit 2) and needs CAP_NET_ADMIN (exit 1)', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'clr');
  const { daemon } = await openDaemon(port, t);
  const refused = await runCli(port.host, ['close', 'eth0']);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, new RegExp(`another dot1x-operstate already manages eth0 in this network namespace; stop it first \\(pid ${daemon.pid}\\)`));
  assert.ok(is.open()(await port.link()), 'close changed a port a daemon manages');
  const unprivileged = await runCli(port.host, ['close', 'eth0'], { wrap: AS_NOBODY });
  assert.equal(unprivileged.code, 1);
  assert.match(unprivileged.stderr, /CAP_NET_ADMIN/);
  daemon.signal('SIGTERM');
  assert.equal((await daemon.waitForExit()).code, 0);
});
