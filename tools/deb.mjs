// `npm run deb`: dot1x-operstate_<version>_<arch>.deb from the built tree, with dpkg-deb.
//   /usr/lib/dot1x-operstate   the bundled CLI (src/launcher.ts), its code cache, the native
//                              addons, and pino-pretty with what it needs (--log-format pretty)
//   /usr/bin/dot1x-operstate   a link to the CLI
//   /lib/systemd/system/dot1x-operstate@.service, the drop-in that restarts a crashed
//   wpa_supplicant (/lib/systemd/system/wpa_supplicant-wired@.service.d/dot1x-operstate.conf),
//   /etc/dot1x-operstate/hooks.d,
//   /usr/share/doc/dot1x-operstate (README, copyright, examples)
// Usage: node tools/deb.mjs [--out DIR]   (default: the package root)
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const outIndex = process.argv.indexOf('--out');
const outDir = outIndex > 0 ? process.argv[outIndex + 1] : root;
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const NODE_MIN = pkg.engines.node.replace(/^>=\s*/, '');

function fail(message) {
  console.error(`tools/deb.mjs: ${message}`);
  process.exit(1);
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) fail(`${cmd}: ${r.error.message} (on Debian: apt-get install dpkg-dev)`);
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} failed: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/**
 * Every production addon under native/ (native/build.mjs builds them all); the program loads
 * each one. native/netlink also builds dot1x_netlink_test.node, the test build: not shipped.
 */
const ADDONS = ['native/netlink/build/Release/dot1x_netlink.node', 'native/unix-dgram/build/Release/dot1x_unix_dgram.node',
  'native/posix/build/Release/dot1x_posix.node'];
const needed = ['dist/src/cli.js', 'dist/src/cli.bundle.cjs', 'dist/src/os/import-module.js', ...ADDONS];
for (const f of needed) if (!existsSync(join(root, f))) fail(`${f} is missing: run npm ci (or npm run build) first`);

/** A package's directory as node would find it from FROM (node_modules of FROM and its parents). */
function findPackage(name, from) {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === root || dirname(dir) === dir) fail(`cannot find ${name} (needed from ${from}): run npm ci`);
  }
}

/** NAME and every package it needs at run time, as directories under the package root. */
function closure(name) {
  const seen = new Set();
  const walk = (dir) => {
    if (seen.has(dir)) return;
    seen.add(dir);
    const deps = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).dependencies ?? {};
    for (const dep of Object.keys(deps)) walk(findPackage(dep, dir));
  };
  walk(findPackage(name, root));
  return [...seen];
}

const arch = run('dpkg', ['--print-architecture']);
const stage = mkdtempSync(join(tmpdir(), 'dot1x-deb-'));
try {
  const lib = join(stage, 'usr/lib/dot1x-operstate');
  for (const f of ['dist/src/cli.js', 'dist/src/cli.bundle.cjs', 'dist/src/cli.bundle.cjs.v8cache', 'dist/src/os/import-module.js', ...ADDONS]) {
    if (!existsSync(join(root, f))) continue; // the code cache is optional
    mkdirSync(dirname(join(lib, f)), { recursive: true });
    cpSync(join(root, f), join(lib, f));
  }
  // What node needs to run dist/src/cli.js as an ES module and to find our version.
  writeFileSync(join(lib, 'package.json'), `${JSON.stringify({
    name: pkg.name, version: pkg.version, description: pkg.description, license: pkg.license, type: 'module', engines: pkg.engines,
  }, null, 2)}\n`);
  for (const dir of closure('pino-pretty')) {
    cpSync(dir, join(lib, dir.slice(root.length)), { recursive: true, filter: (src) => !src.slice(dir.length).includes('/node_modules/') });
  }

  mkdirSync(join(stage, 'usr/bin'), { recursive: true });
  symlinkSync('../lib/dot1x-operstate/dist/src/cli.js', join(stage, 'usr/bin/dot1x-operstate'));
  mkdirSync(join(stage, 'lib/systemd/system'), { recursive: true });
  cpSync(join(root, 'examples/dot1x-operstate@.service'), join(stage, 'lib/systemd/system/dot1x-operstate@.service'));
  mkdirSync(join(stage, 'lib/systemd/system/wpa_supplicant-wired@.service.d'));
  cpSync(join(root, 'examples/wpa_supplicant-wired@.service.d/dot1x-operstate.conf'),
    join(stage, 'lib/systemd/system/wpa_supplicant-wired@.service.d/dot1x-operstate.conf'));
  mkdirSync(join(stage, 'etc/dot1x-operstate/hooks.d'), { recursive: true });
  const doc = join(stage, 'usr/share/doc/dot1x-operstate');
  mkdirSync(doc, { recursive: true });
  cpSync(join(root, 'README.md'), join(doc, 'README.md'));
  cpSync(join(root, 'LICENSE'), join(doc, 'copyright'));
  cpSync(join(root, 'examples'), join(doc, 'examples'), { recursive: true });

  // Ownership root:root (--root-owner-group), modes as Debian policy wants them.
  const normalise = (p) => {
    const st = lstatSync(p);
    if (st.isSymbolicLink()) return;
    if (st.isDirectory()) {
      chmodSync(p, 0o755);
      for (const e of readdirSync(p)) normalise(join(p, e));
    } else {
      chmodSync(p, st.mode & 0o111 ? 0o755 : 0o644);
    }
  };
  normalise(stage);
  chmodSync(join(lib, 'dist/src/cli.js'), 0o755);

  const installedKiB = run('du', ['-sk', '--exclude=DEBIAN', stage]).split(/\s+/)[0];
  mkdirSync(join(stage, 'DEBIAN'));
  writeFileSync(join(stage, 'DEBIAN/control'), [
    `Package: ${pkg.name}`,
    `Version: ${pkg.version}`,
    `Architecture: ${arch}`,
    'Maintainer: dot1x-operstate developers <root@localhost>',
    `Installed-Size: ${installedKiB}`,
    `Depends: nodejs (>= ${NODE_MIN})`,
    'Recommends: wpasupplicant',
    'Section: net',
    'Priority: optional',
    'Description: makes a wired port\'s operstate mean "802.1X-authorized"',
    ' dot1x-operstate keeps a wired port DORMANT (no IFF_RUNNING) until the switch has',
    ' authorized it with IEEE 802.1X, and UP only while it is (the supplicant flow of',
    ' the kernel\'s operstates), so DHCP clients and networkd wait for authentication.',
    ' .',
    ` It needs Node.js ${NODE_MIN} or later: Debian 12's own nodejs (18) is too old; use`,
    ' the nodejs package of NodeSource or a later Debian.',
    '',
  ].join('\n'));
  // systemd must see the new or removed unit; no instance is started or stopped here.
  for (const script of ['postinst', 'postrm']) {
    writeFileSync(join(stage, 'DEBIAN', script), '#!/bin/sh\nset -e\nif [ -d /run/systemd/system ]; then systemctl daemon-reload >/dev/null || true; fi\n', { mode: 0o755 });
    chmodSync(join(stage, 'DEBIAN', script), 0o755);
  }
  mkdirSync(outDir, { recursive: true });
  const deb = join(outDir, `${pkg.name}_${pkg.version}_${arch}.deb`);
  run('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', stage, deb]);
  console.log(deb);
} finally {
  rmSync(stage, { recursive: true, force: true });
}
