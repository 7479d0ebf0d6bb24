/**
 * The Debian package: built from this tree with dpkg-deb (tools/deb.mjs), installed with
 * dpkg, run (--help, --version, the unit as systemd sees it, one lab scenario with the
 * installed /usr/bin/dot1x-operstate against real wpa_supplicant and hostapd), removed again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { needsRoot } from './lab/netns.js';
import { Lab } from './lab/lab.js';
import { is } from './lab/link-watch.js';
import { DaemonProcess, runCli } from './lab/dot1x-daemon.js';
import { labDir } from './lab/peer-process.js';

const execFileP = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PKG = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { version: string };
const BIN = '/usr/bin/dot1x-operstate';

async function sh(cmd: string, args: string[], timeout = 120_000): Promise<{ code: number; stdout: string; stderr: string }> {
  // From /: nothing may come from this tree's working directory (e.g. its package.json).
  return execFileP(cmd, args, { timeout, cwd: '/', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
    .then(({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }));
}

/** dpkg waits for no lock: another package operation on the machine is retried for a while. */
async function dpkg(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  for (let i = 0; ; i++) {
    const r = await sh('dpkg', args);
    if (r.code === 0 || !/lock/i.test(r.stderr) || i >= 30) return r;
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

test('the .deb builds, installs, runs a lab scenario with the installed binary, and is removed', async (t) => {
  if (!needsRoot(t)) return;
  const installed = await sh('dpkg-query', ['-W', '-f', '${Status}', 'dot1x-operstate']);
  assert.ok(!/install ok installed/.test(installed.stdout), 'dot1x-operstate is already installed on this machine: the test would replace it; remove it first');

  const out = labDir('deb', t);
  const built = await sh(process.execPath, [`${ROOT}tools/deb.mjs`, '--out', out]);
  assert.equal(built.code, 0, built.stderr);
  const deb = built.stdout.trim();
  assert.match(deb, new RegExp(`/dot1x-operstate_${PKG.version.replace(/\./g, '\\.')}_[a-z0-9]+\\.deb$`));
  const info = await sh('dpkg-deb', ['--field', deb, 'Depends']);
  assert.equal(info.stdout.trim(), 'nodejs (>= 20.19)');
  const contents = (await sh('dpkg-deb', ['--contents', deb])).stdout;
  for (const path of ['./usr/bin/dot1x-operstate -> ../lib/dot1x-operstate/dist/src/cli.js', './usr/lib/dot1x-operstate/dist/src/cli.bundle.cjs',
    './lib/systemd/system/dot1x-operstate@.service', './etc/dot1x-operstate/hooks.d/', './usr/share/doc/dot1x-operstate/copyright',
    './usr/share/doc/dot1x-operstate/README.md', './usr/lib/dot1x-operstate/node_modules/pino-pretty/package.json']) {
    assert.ok(contents.includes(path), `${path} not in the package:\n${contents}`);
  }
  // The production addons, and not the test build of the netlink addon.
  const addons = contents.split('\n').filter((l) => l.endsWith('.node')).map((l) => l.slice(l.lastIndexOf('/') + 1)).sort();
  assert.deepEqual(addons, ['dot1x_netlink.node', 'dot1x_posix.node', 'dot1x_unix_dgram.node']);

  t.after(async () => { await dpkg(['--purge', 'dot1x-operstate']); });
  const install = await dpkg(['-i', deb]);
  assert.equal(install.code, 0, install.stderr);
  assert.equal(realpathSync(BIN), '/usr/lib/dot1x-operstate/dist/src/cli.js');

  const help = await sh(BIN, ['--help']);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /dot1x-operstate doctor \[ifname\.\.\]/);
  assert.equal((await sh(BIN, ['--version'])).stdout.trim(), PKG.version);
  const verify = await sh('systemd-analyze', ['verify', 'dot1x-operstate@eth0.service']);
  assert.equal(verify.code, 0, verify.stderr);
  assert.doesNotMatch(verify.stderr, /dot1x-operstate@/, verify.stderr);

  // The lab scenario: the installed binary gates a port on real wpa_supplicant and hostapd.
  const lab = await Lab.create({ t, prefix: 'deb', withDaemon: false });
  // Pretty logs: pino-pretty is the one module the bundle loads from the package's node_modules.
  const daemon = DaemonProcess.start(lab.host, lab.daemonArgv(['--log-format', 'pretty']), { t, cli: BIN, env: { DOT1X_RUN_DIR: lab.runDir } });
  await lab.watch.until(is.gated(), 'DORMANT in linkmode 1', { timeoutMs: 10_000 });
  await lab.watch.until(is.open(), 'UP after 802.1X', { timeoutMs: 15_000 });
  const status = await runCli(lab.host, ['status', lab.ifname, '--json'], { cli: BIN, env: { DOT1X_RUN_DIR: lab.runDir } });
  assert.equal((JSON.parse(status.stdout) as { daemon: { pid: number } }).daemon.pid, daemon.pid);
  daemon.signal('SIGTERM');
  const exit = await daemon.waitForExit();
  assert.equal(exit.code, 0, exit.stderr);
  assert.match(exit.stdout, /^\[[^\]]+\] INFO: stopped /m);
  await lab.watch.until(is.restored(), 'linkmode 0 restored', { timeoutMs: 5000 });

  const removed = await dpkg(['--purge', 'dot1x-operstate']);
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(existsSync(BIN), false);
  assert.equal(existsSync('/usr/lib/dot1x-operstate'), false);
  assert.equal(existsSync('/lib/systemd/system/dot1x-operstate@.service'), false);
});
