/**
 * The Debian package (tools/deb.mjs): what it holds and what lintian says of it; then, as root,
 * its life on a machine: installed with dpkg into a private root (test/lab/package-root.ts: the
 * host's /usr, /etc, /var and package database are never touched), its manual page, the
 * installed program gating a lab port on real wpa_supplicant and hostapd, an upgrade under a
 * running daemon, removal (prerm stops the daemon) and purge (postrm cleans up).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { needsRoot } from './lab/netns.js';
import { Lab } from './lab/lab.js';
import { is } from './lab/link-watch.js';
import { DaemonProcess, runCli } from './lab/dot1x-daemon.js';
import { labDir } from './lab/peer-process.js';
import { PackageRoot, type RunResult } from './lab/package-root.js';

const execFileP = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PKG = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { version: string };
const BIN = '/usr/bin/dot1x-operstate';
const LIB = '/usr/lib/dot1x-operstate';
const DOC = '/usr/share/doc/dot1x-operstate';

/**
 * Everything the package installs outside node_modules and the examples. A file added to
 * SHIPPED in tools/deb.mjs is added here too: what ships is reviewed, not whatever a glob found.
 */
const EXPECTED = [
  '/etc/dot1x-operstate/hooks.d/50-networkmanager',
  '/lib/systemd/system/dot1x-operstate@.service',
  '/lib/systemd/system/wpa_supplicant-wired@.service.d/dot1x-operstate.conf',
  '/lib/udev/rules.d/83-dot1x-operstate.rules',
  '/lib/systemd/system/wpa_supplicant-wired@.service.d/dot1x-operstate-device.conf',
  `${LIB}/dist/src/cli.bundle.cjs`,
  `${LIB}/dist/src/cli.js`,
  `${LIB}/dist/src/os/import-module.js`,
  `${LIB}/instances`,
  `${LIB}/native/netlink/build/Release/dot1x_netlink.node`,
  `${LIB}/native/posix/build/Release/dot1x_posix.node`,
  `${LIB}/native/unix-dgram/build/Release/dot1x_unix_dgram.node`,
  `${LIB}/package.json`,
  `${DOC}/README.md`,
  `${DOC}/changelog.Debian.gz`,
  `${DOC}/copyright`,
  '/usr/share/lintian/overrides/dot1x-operstate',
  '/usr/share/man/man8/dot1x-operstate.8.gz',
  `${BIN} -> ../lib/dot1x-operstate/dist/src/cli.js`,
];
/** Made by the build when it can (the V8 code cache): shipped when present. */
const OPTIONAL = [`${LIB}/dist/src/cli.bundle.cjs.v8cache`];
/** What never belongs in the package: tests, benchmarks, fixtures, CI and editor files, sources, docs of dependencies. */
const NOT_SHIPPED = /(^|\/)(tests?|__tests__|fixtures?|bench(mark)?s?|examples?|docs?|help|\.github|\.ci|\.husky|types)\/|\/\.[^/]+$|\.(test|spec)\.[cm]?js$|\.(md|markdown|map|ts|mts|cts|yml|yaml|txt|png|eslintrc)$|(^|\/)(bin\.js|LICEN[CS]E[^/]*|license|CHANGELOG[^/]*|readme[^/]*)$/i;

async function sh(cmd: string, args: string[], timeout = 120_000): Promise<RunResult> {
  // From /: nothing may come from this tree's working directory.
  return execFileP(cmd, args, { timeout, cwd: '/', maxBuffer: 64 * 1024 * 1024 })
    .then(({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }));
}

let built: Promise<string> | undefined;
/** The .deb of this tree, built once per test process (into a directory removed at exit). */
function buildDeb(): Promise<string> {
  built ??= (async () => {
    const out = labDir('deb');
    process.on('exit', () => rmSync(out, { recursive: true, force: true }));
    const r = await sh(process.execPath, [`${ROOT}tools/deb.mjs`, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
  })();
  return built;
}

/** `dpkg-deb --contents` as installed paths: files, and links as "PATH -> TARGET" (directories left out). */
async function contents(deb: string): Promise<string[]> {
  const r = await sh('dpkg-deb', ['--contents', deb]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').filter((l) => l !== '' && !l.startsWith('d'))
    .map((l) => l.slice(l.indexOf('./') + 1)).sort();
}

/** The files of the tree's examples/, as the package installs them. */
function examples(dir = join(ROOT, 'examples'), under = `${DOC}/examples`): string[] {
  return readdirSync(dir).flatMap((name) => (lstatSync(join(dir, name)).isDirectory()
    ? examples(join(dir, name), `${under}/${name}`) : [`${under}/${name}`]));
}

test('the .deb ships what runs and nothing else, with the files Debian wants, and lintian finds no error or warning', async (t) => {
  const deb = await buildDeb();
  assert.match(deb, new RegExp(`/dot1x-operstate_${PKG.version.replace(/\./g, '\\.')}-\\d+_[a-z0-9]+\\.deb$`));
  const field = async (name: string): Promise<string> => (await sh('dpkg-deb', ['--field', deb, name])).stdout.trim();
  assert.match(await field('Version'), new RegExp(`^${PKG.version.replace(/\./g, '\\.')}-\\d+$`));
  const maintainer = await field('Maintainer');
  assert.match(maintainer, /^dot1x-operstate developers <[^@\s]+@[^@\s]+>$/);
  assert.doesNotMatch(maintainer, /root@|localhost/);
  const depends = await field('Depends');
  assert.match(depends, /^nodejs \(>= 20\.19\), /);
  assert.match(depends, /\blibc6 \(>= [\d.]+\)/, 'the addons need libc (dpkg-shlibdeps)');
  assert.match(depends, /\biproute2\b/, 'the udev rule runs ip');

  // The manual page names the version it describes.
  assert.match(readFileSync(join(ROOT, 'docs/dot1x-operstate.8'), 'utf8'), new RegExp(`^\\.TH DOT1X-OPERSTATE 8 \\S+ "dot1x-operstate ${PKG.version.replace(/\./g, '\\.')}"`, 'm'));

  const listed = await contents(deb);
  const ours = listed.filter((p) => !p.startsWith(`${LIB}/node_modules/`) && !p.startsWith(`${DOC}/examples/`));
  assert.deepEqual(ours.filter((p) => !OPTIONAL.includes(p)), [...EXPECTED].sort(), 'the package outside node_modules and examples');
  assert.deepEqual(listed.filter((p) => p.startsWith(`${DOC}/examples/`)), examples().sort(), 'the examples, as in the tree');

  // node_modules: pino-pretty and what its require() graph loads, nothing else.
  const modules = listed.filter((p) => p.startsWith(`${LIB}/node_modules/`)).map((p) => p.slice(`${LIB}/`.length));
  assert.ok(modules.includes('node_modules/pino-pretty/index.js') && modules.includes('node_modules/pino-pretty/package.json'), modules.join('\n'));
  for (const p of modules) {
    assert.match(p, /\.(c?js|json)$/, `${p}: only modules and their package.json`);
    assert.doesNotMatch(p, NOT_SHIPPED, `${p}: not needed at run time`);
  }
  for (const p of listed.filter((l) => l.startsWith(`${LIB}/`))) assert.doesNotMatch(p, NOT_SHIPPED, `${p}: not needed at run time`);

  // The control archive: md5sums of every file but the conffiles (those under /etc), the maintainer scripts.
  const control = labDir('deb-control', t);
  assert.equal((await sh('dpkg-deb', ['--control', deb, `${control}/DEBIAN`])).code, 0);
  const sums = readFileSync(join(control, 'DEBIAN/md5sums'), 'utf8').trim().split('\n').map((l) => `/${l.slice(34)}`).sort();
  assert.deepEqual(sums, listed.filter((p) => !p.includes(' -> ') && !p.startsWith('/etc/')));
  assert.deepEqual(readFileSync(join(control, 'DEBIAN/conffiles'), 'utf8').trim().split('\n'), listed.filter((p) => p.startsWith('/etc/')));
  // A hook runs as root: the package installs it executable, and writable by root alone (src/daemon/hooks.ts).
  const modes = (await sh('dpkg-deb', ['--contents', deb])).stdout.split('\n').filter((l) => l.includes('./etc/dot1x-operstate/hooks.d/'));
  assert.ok(modes.length > 0 && modes.every((l) => /^[-d]rwxr-xr-x root\/root /.test(l)), modes.join('\n'));
  for (const script of ['postinst', 'prerm', 'postrm']) assert.ok(existsSync(join(control, 'DEBIAN', script)), `DEBIAN/${script}`);

  const lintian = await sh('lintian', ['--fail-on', 'error,warning', deb], 300_000);
  const findings = lintian.stdout.split('\n').filter((l) => /^[EW]: /.test(l));
  assert.deepEqual(findings, [], lintian.stdout);
  assert.equal(lintian.code, 0, `${lintian.stdout}${lintian.stderr}`);
});

test('installed, the package runs, its manual page renders, an upgrade leaves the daemon gating, removal stops it and purge cleans up', async (t) => {
  if (!needsRoot(t)) return;
  const deb = await buildDeb();
  const root = await PackageRoot.create(t);
  const install = await root.run('dpkg', ['-i', deb]);
  assert.equal(install.code, 0, install.stderr);
  assert.equal(readlinkSync(root.path(BIN)), '../lib/dot1x-operstate/dist/src/cli.js');
  // The host saw nothing of it.
  assert.equal(existsSync(BIN), false, 'installed into the private root only');
  assert.doesNotMatch((await sh('dpkg-query', ['-W', '-f', '${Status}', 'dot1x-operstate'])).stdout, /install ok installed/);

  const help = await root.run(BIN, ['--help']);
  assert.equal(help.code, 0, help.stderr);
  assert.equal((await root.run(BIN, ['--version'])).stdout.trim(), PKG.version);

  // man finds the page, renders it without a warning, and it names every option --help names.
  assert.equal((await root.run('man', ['-w', 'dot1x-operstate'])).stdout.trim(), '/usr/share/man/man8/dot1x-operstate.8.gz');
  const page = await root.run('man', ['--warnings', '-l', '/usr/share/man/man8/dot1x-operstate.8.gz'], { env: { MANWIDTH: '100', MAN_KEEP_FORMATTING: '' } });
  assert.equal(page.code, 0, page.stderr);
  assert.equal(page.stderr, '', 'groff warnings');
  assert.match(page.stdout, /^NAME\n\s+dot1x-operstate - /m);
  const text = page.stdout.replace(/‐\n\s*/g, '').replace(/‐/g, '-');
  const helps = [help.stdout, ...(await Promise.all(['status', 'doctor', 'reset'].map(async (c) => (await root.run(BIN, [c, '--help'])).stdout)))];
  const options = new Set(helps.flatMap((h) => h.match(/^\s+(--[a-z-]+)/gm) ?? []).map((o) => o.trim()));
  assert.ok(options.size > 15, [...options].join(' '));
  for (const option of options) assert.ok(text.includes(option), `${option} is in --help but not in the manual page`);
  for (const command of ['reset', 'status', 'doctor']) assert.match(text, new RegExp(`^\\s+${command} `, 'm'));

  // The unit as systemd reads it, with its Documentation= (systemd-analyze runs man -w on it).
  const verify = await root.run('systemd-analyze', ['verify', 'dot1x-operstate@eth0.service']);
  assert.equal(verify.code, 0, verify.stderr);
  assert.doesNotMatch(verify.stderr, /dot1x-operstate@|man:/, verify.stderr);
  assert.match(readFileSync(root.path('/lib/systemd/system/dot1x-operstate@.service'), 'utf8'), /^Documentation=man:dot1x-operstate\(8\)/m);

  // The installed program gates a lab port.
  const lab = await Lab.create({ t, prefix: 'deb', withDaemon: false });
  // Pretty logs: pino-pretty is the one module the bundle loads from the package's node_modules.
  const daemon = DaemonProcess.start(lab.host, lab.daemonArgv(['--log-format', 'pretty']), { t, cli: BIN, wrap: root.wrap, env: { DOT1X_RUN_DIR: lab.runDir } });
  await lab.watch.until(is.gated(), 'DORMANT in linkmode 1', { timeoutMs: 10_000 });
  await lab.watch.until(is.open(), 'UP after 802.1X', { timeoutMs: 15_000 });
  // node runs with every flag of the source's shebang (the kernel passes a "#!" line's
  // arguments as one, which node refuses when there are several: tools/deb.mjs).
  const flags = /^#!\/usr\/bin\/env -S node (.*)$/m.exec(readFileSync(join(ROOT, 'src/launcher.ts'), 'utf8').split('\n', 1)[0]!)?.[1]?.split(' ') ?? [];
  const argv = readFileSync(`/proc/${String(daemon.pid)}/cmdline`, 'utf8').split('\0');
  assert.deepEqual(argv.slice(1, 1 + flags.length), flags, `the daemon's command line: ${argv.join(' ')}`);
  const status = await runCli(lab.host, ['status', lab.ifname, '--json'], { cli: BIN, wrap: root.wrap, env: { DOT1X_RUN_DIR: lab.runDir } });
  assert.equal((JSON.parse(status.stdout) as { daemon: { pid: number } }).daemon.pid, daemon.pid);
  const listedBefore = await root.run(`${LIB}/instances`, []);
  assert.match(listedBefore.stdout, new RegExp(`^${String(daemon.pid)} - ${lab.ifname} `, 'm'), 'the helper finds the daemon');

  // An upgrade (the same package, a later version) stops nothing: the daemon goes on gating,
  // the port never leaves supplicant mode, and the administrator is told what still runs.
  const upgraded = repack(deb, `${PKG.version}-99`, t);
  const beforeUpgrade = lab.watch.mark('upgrade');
  const upgrade = await root.run('dpkg', ['-i', upgraded]);
  assert.equal(upgrade.code, 0, upgrade.stderr);
  assert.match(upgrade.stderr, new RegExp(`go on gating their ports with version ${PKG.version.replace(/\./g, '\\.')}-\\d+ until restarted:\\n  pid ${String(daemon.pid)} \\(${lab.ifname} `));
  // The kernel's word (a daemon stopped by the upgrade would have restored linkmode 0 before
  // it exited, and so before dpkg returned), then the daemon's (the upgraded status client).
  const [link] = await lab.host.links(lab.ifname) as Array<{ linkmode?: string; operstate?: string }>;
  assert.deepEqual([link?.linkmode, link?.operstate], ['DORMANT', 'UP'], 'supplicant mode and open after the upgrade');
  const after = await runCli(lab.host, ['status', lab.ifname, '--json'], { cli: BIN, wrap: root.wrap, env: { DOT1X_RUN_DIR: lab.runDir } });
  assert.equal((JSON.parse(after.stdout) as { daemon: { pid: number } }).daemon.pid, daemon.pid, 'the same daemon after the upgrade');
  assert.equal(lab.watch.findSince(beforeUpgrade, is.linkmode(0)), undefined, `linkmode 0 during the upgrade: ${lab.watch.format(lab.watch.timeline.slice(beforeUpgrade))}`);

  // Removal: prerm stops the daemon (SIGTERM), which restores the port and exits 0.
  const beforeRemove = lab.watch.mark('dpkg --remove');
  const remove = await root.run('dpkg', ['--remove', 'dot1x-operstate']);
  assert.equal(remove.code, 0, remove.stderr);
  const exit = await daemon.waitForExit({ timeoutMs: 5000 });
  assert.equal(exit.code, 0, exit.stderr);
  assert.match(exit.stdout, /^\[[^\]]+\] INFO: stopped /m);
  await lab.watch.until(is.restored(), 'linkmode 0 restored by the stopped daemon', { since: beforeRemove, timeoutMs: 5000 });
  assert.equal(existsSync(root.path(BIN)), false);

  // Purge: the run directory, the instances' enablement links, /etc/dot1x-operstate.
  const wants = '/etc/systemd/system/multi-user.target.wants';
  const setup = await root.run('sh', ['-c', [
    `mkdir -p /run/dot1x-operstate ${wants}`, 'touch /run/dot1x-operstate/eth9.sock /run/dot1x-operstate/eth9.netns-1.lock',
    `ln -s /lib/systemd/system/dot1x-operstate@.service ${wants}/dot1x-operstate@eth0.service`,
    `ln -s /lib/systemd/system/other@.service ${wants}/other@eth0.service`].join(' && ')]);
  assert.equal(setup.code, 0, setup.stderr);
  const purge = await root.run('dpkg', ['--purge', 'dot1x-operstate']);
  assert.equal(purge.code, 0, purge.stderr);
  assert.equal(existsSync(root.path('/run/dot1x-operstate')), false, '/run/dot1x-operstate purged');
  assert.equal(existsSync(root.path('/etc/dot1x-operstate')), false, '/etc/dot1x-operstate purged');
  assert.equal(existsSync(root.path(`${wants}/dot1x-operstate@eth0.service`)), false, 'enablement link purged');
  assert.ok(lstatSync(root.path(`${wants}/other@eth0.service`)).isSymbolicLink(), "another unit's link stays");
  for (const p of [LIB, DOC, '/lib/systemd/system/dot1x-operstate@.service', '/usr/share/man/man8/dot1x-operstate.8.gz']) {
    assert.equal(existsSync(root.path(p)), false, `${p} removed`);
  }
  assert.doesNotMatch((await root.run('dpkg-query', ['-W', '-f', '${Status}', 'dot1x-operstate'])).stdout, /installed/);
});

test("purge keeps what is not the package's to remove: an administrator's hook, a run directory a daemon still uses", async (t) => {
  if (!needsRoot(t)) return;
  const deb = await buildDeb();
  const root = await PackageRoot.create(t);
  assert.equal((await root.run('dpkg', ['-i', deb])).code, 0);
  const setup = await root.run('sh', ['-c', 'printf "#!/bin/sh\\n" >/etc/dot1x-operstate/hooks.d/50-mine && chmod 755 /etc/dot1x-operstate/hooks.d/50-mine && mkdir -p /run/dot1x-operstate && touch /run/dot1x-operstate/eth0.netns-1.lock']);
  assert.equal(setup.code, 0, setup.stderr);
  // Another installation's daemon holds its lock there (as flock(1) holds it here).
  const holder = spawn('nsenter', [`--mount=${root.mountNs}`, '--', 'flock', '/run/dot1x-operstate/eth0.netns-1.lock', 'sh', '-c', 'echo held; exec cat'], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => { holder.kill('SIGKILL'); });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('flock did not take the lock within 5 s')), 5000);
    holder.stdout!.once('data', () => { clearTimeout(timer); resolve(); });
  });
  const purge = await root.run('dpkg', ['--purge', 'dot1x-operstate']);
  assert.equal(purge.code, 0, purge.stderr);
  assert.match(purge.stderr, /\/run\/dot1x-operstate kept: a running daemon holds eth0\.netns-1\.lock/);
  assert.match(purge.stderr, /\/etc\/dot1x-operstate kept/);
  assert.ok(existsSync(root.path('/etc/dot1x-operstate/hooks.d/50-mine')));
  assert.ok(existsSync(root.path('/run/dot1x-operstate/eth0.netns-1.lock')));
  holder.stdin!.end();
});

/** DEB with its version set to VERSION, as a later build would be (dpkg-deb -R, edit, -b). */
function repack(deb: string, version: string, t: TestContext): string {
  const dir = labDir('deb-repack', t);
  execFileSync('dpkg-deb', ['-R', deb, `${dir}/tree`]);
  const controlFile = `${dir}/tree/DEBIAN/control`;
  writeFileSync(controlFile, readFileSync(controlFile, 'utf8').replace(/^Version: .*$/m, `Version: ${version}`));
  execFileSync('dpkg-deb', ['--root-owner-group', '-b', `${dir}/tree`, `${dir}/upgraded.deb`], { stdio: 'ignore' });
  return `${dir}/upgraded.deb`;
}
