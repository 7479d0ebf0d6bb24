// `npm run deb`: dot1x-operstate_<version>_<arch>.deb from the built tree, with dpkg-deb.
// Usage: node tools/deb.mjs [--out DIR]   (default: the package root). Prints the .deb's path.
//
// What the package holds is the SHIPPED table below (files of this tree) and the few files made
// here (listed after it). The files Debian wants from a packager (control, changelog, maintainer
// scripts, lintian overrides) are in tools/debian/, each saying at its top what it does.
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../', import.meta.url));
const debian = join(root, 'tools/debian');
const outIndex = process.argv.indexOf('--out');
const outDir = outIndex > 0 ? process.argv[outIndex + 1] : root;
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const NODE_MIN = pkg.engines.node.replace(/^>=\s*/, '');

const LIB = 'usr/lib/dot1x-operstate';
const DOC = 'usr/share/doc/dot1x-operstate';

/**
 * Every file the package installs from this tree, one row each. To ship another file (a udev
 * rule, a drop-in for a unit), add a row here and its installed path to the expected list in
 * test/package-deb.test.ts, which fails on anything shipped that is not listed there.
 *   from  path in the built tree (after npm ci / npm run build); a directory is copied whole
 *   to    installed path, without the leading /; a path under etc/ becomes a conffile
 *   mode  0o644 unless given (0o755 for programs)
 *   how   'addon': a native addon, stripped like dh_strip does (mode 0644: it is loaded, not run)
 *         'node-script': its `#!/usr/bin/env -S node ...` line becomes `#!/usr/bin/node` (Debian
 *           policy 10.4: scripts name their interpreter by absolute path), or a /bin/sh line that
 *           execs /usr/bin/node with the flags where there are any (absoluteShebang)
 *         'man': a manual page, installed gzip -9n
 *   link  instead of from: the symbolic link's target
 *   dir   instead of from: an empty directory the package owns
 *   why   why it ships: what runs it, or who reads it
 */
const SHIPPED = [
  { from: 'dist/src/cli.js', to: `${LIB}/dist/src/cli.js`, mode: 0o755, how: 'node-script', why: 'the program: the launcher (src/launcher.ts) that runs the bundle' },
  { from: 'dist/src/cli.bundle.cjs', to: `${LIB}/dist/src/cli.bundle.cjs`, how: 'bundle', why: 'the whole CLI and daemon with xstate, pino and yargs, in one file (tools/bundle.mjs)' },
  { from: 'dist/src/cli.bundle.cjs.v8cache', to: `${LIB}/dist/src/cli.bundle.cjs.v8cache`, optional: true, why: 'V8 code cache of the bundle: the daemon reaches linkmode 1 sooner at boot (a cache another node rejects only costs the compile)' },
  { from: 'dist/src/os/import-module.js', to: `${LIB}/dist/src/os/import-module.js`, why: 'import() from the launcher, for --auth module (src/os/import-module.ts)' },
  { from: 'native/netlink/build/Release/dot1x_netlink.node', to: `${LIB}/native/netlink/build/Release/dot1x_netlink.node`, how: 'addon', why: 'rtnetlink: reads and writes the link (native/netlink)' },
  { from: 'native/unix-dgram/build/Release/dot1x_unix_dgram.node', to: `${LIB}/native/unix-dgram/build/Release/dot1x_unix_dgram.node`, how: 'addon', why: "wpa_supplicant's control socket (AF_UNIX datagrams, which node lacks)" },
  { from: 'native/posix/build/Release/dot1x_posix.node', to: `${LIB}/native/posix/build/Release/dot1x_posix.node`, how: 'addon', why: 'flock, prctl (child subreaper) and the other posix calls (native/posix)' },
  { from: 'tools/debian/instances', to: `${LIB}/instances`, mode: 0o755, why: 'lists and stops the running daemons for prerm and postinst' },
  { link: `../lib/dot1x-operstate/dist/src/cli.js`, to: 'usr/bin/dot1x-operstate', why: 'the command, where the unit and administrators call it' },
  { from: 'examples/dot1x-operstate@.service', to: 'lib/systemd/system/dot1x-operstate@.service', why: 'the systemd template unit, one instance per port' },
  { from: 'examples/wpa_supplicant-wired@.service.d/dot1x-operstate.conf', to: 'lib/systemd/system/wpa_supplicant-wired@.service.d/dot1x-operstate.conf', why: "a drop-in for Debian's wpa_supplicant-wired@.service: systemd restarts a crashed wpa_supplicant and tells the daemon at once (docs/systemd.md)" },
  { from: 'examples/wpa_supplicant-wired@.service.d/dot1x-operstate-device.conf', to: 'lib/systemd/system/wpa_supplicant-wired@.service.d/dot1x-operstate-device.conf', why: 'wpa_supplicant-wired@ stops when its port goes, so that a dock plugged in again gets a fresh one (docs/hotplug.md)' },
  { from: 'examples/udev/83-dot1x-operstate.rules', to: 'lib/udev/rules.d/83-dot1x-operstate.rules', why: 'a port the administrator named: linkmode 1 before udev is done with it, and its two instances started (docs/hotplug.md)' },
  { dir: true, to: 'etc/dot1x-operstate/hooks.d', why: "the default --hook-dir, owned by root, where an administrator's hooks go" },
  { from: 'examples/hooks/50-networkmanager', to: 'etc/dot1x-operstate/hooks.d/50-networkmanager', mode: 0o755, why: 'active by default: where NetworkManager manages the port, its DHCP starts again the moment the port opens (a no-op elsewhere); a conffile, so an administrator may remove it' },
  { from: 'docs/dot1x-operstate.8', to: 'usr/share/man/man8/dot1x-operstate.8.gz', how: 'man', why: 'man dot1x-operstate; the unit names it in Documentation=' },
  { from: 'tools/debian/lintian-overrides', to: 'usr/share/lintian/overrides/dot1x-operstate', why: 'the lintian tags that do not apply, each with its reason' },
  { from: 'README.md', to: `${DOC}/README.md`, why: 'installing, configuring a port, checking it' },
  { from: 'examples', to: `${DOC}/examples`, why: 'the wpa_supplicant configuration, hooks, authenticators and alert rules the README and the manual refer to' },
];
// Made here, not copied:
//   ${LIB}/package.json                  node needs it to run dist/src/cli.js as an ES module; our version
//   ${LIB}/node_modules/...              pino-pretty and what it loads, for --log-format pretty (the
//                                        bundle leaves it out: it costs start-up time, and JSON is the
//                                        default): only the files its require() graph reaches
//   ${DOC}/copyright                     machine-readable: ours, and every package in the bundle,
//                                        the addons and node_modules, with its license text
//   ${DOC}/changelog.Debian.gz           tools/debian/changelog
//   DEBIAN/control, md5sums, conffiles, postinst, prerm, postrm
//
// lintian (Debian 12's, 2.116) finds no error and no warning but the one overridden in
// tools/debian/lintian-overrides. What it still says below warning level, and why it stays:
//   I: hardening-no-bindnow, hardening-no-fortify-functions (the addons): node-gyp builds them
//      without dpkg-buildflags' -Wl,-z,now and -D_FORTIFY_SOURCE=2 (native/build.mjs)
//   P: repeated-path-segment (node_modules/pino-pretty/lib/...): npm's own layout, which node's
//      module resolution needs
//   X: executable-in-usr-lib (dist/src/cli.js, instances): the program /usr/bin links to, and the
//      maintainer scripts' helper; /usr/lib/PACKAGE is where Debian 12 keeps such files

function fail(message) {
  console.error(`tools/deb.mjs: ${message}`);
  process.exit(1);
}

/**
 * The first line of an installed node script whose source starts `#!/usr/bin/env -S node FLAGS`.
 * The kernel passes what follows the interpreter on a "#!" line as ONE argument, so
 * `#!/usr/bin/node --a --b` hands node the single option "--a --b", which it refuses: with more
 * than one flag the script starts as /bin/sh and execs node with them: a line both read (for
 * JavaScript a string and a comment), after which sh sees a here-document that ends at the
 * script's last line, `//` (a comment for JavaScript), so that `sh -n` (lintian) parses the
 * file. The flags are what the launcher's code cache was made under (tools/bundle.mjs); node
 * resolves "$0" through the /usr/bin link.
 */
function absoluteShebang(flags) {
  if (!/^[A-Za-z0-9=_. -]*$/.test(flags)) fail(`node flags in a shebang that sh would not take literally: ${flags}`);
  if (!flags.includes(' ')) return `#!/usr/bin/node${flags ? ` ${flags}` : ''}`;
  return `#!/bin/sh\n':' //; exec /usr/bin/node ${flags} "$0" "$@"; : <<'//'`;
}

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...options });
  if (r.error) fail(`${cmd}: ${r.error.message} (on Debian: apt-get install dpkg-dev binutils)`);
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} failed: ${String(r.stderr).trim()}`);
  return typeof r.stdout === 'string' ? r.stdout.trim() : r.stdout;
}

for (const row of SHIPPED) {
  if (row.from !== undefined && !row.optional && !existsSync(join(root, row.from))) fail(`${row.from} is missing: run npm ci (or npm run build) first`);
}

/** The top entry of tools/debian/changelog: the package's version (upstream-revision) and date. */
function changelogTop() {
  const text = readFileSync(join(debian, 'changelog'), 'utf8');
  const head = /^dot1x-operstate \(([^)]+)\) /.exec(text);
  const trailer = /^ -- .+ <.+>  (.+)$/m.exec(text);
  if (head === null || trailer === null) fail('tools/debian/changelog: no entry at the top');
  const version = head[1];
  const upstream = version.replace(/-[^-]+$/, '');
  if (upstream !== pkg.version) {
    fail(`tools/debian/changelog's top entry is ${version}, package.json says ${pkg.version}: add an entry for ${pkg.version}-1 (dch -v ${pkg.version}-1)`);
  }
  return { version, epochSeconds: Math.floor(Date.parse(trailer[1]) / 1000) };
}

/** The package directory (relative to root) holding FILE: the last node_modules/NAME (or @scope/NAME) in its path. */
function packageDirOf(file) {
  const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(file);
  return m === null ? null : m[1];
}

/**
 * The files `require('pino-pretty')` loads, relative to root, found by letting esbuild follow
 * the require() graph as node resolves it (platform node, CommonJS), plus every package.json on
 * the way from each file up to its package's directory (node reads them to resolve and to know
 * a file's module type). Its tests, benchmarks, CLI (bin.js and the packages only that needs),
 * documentation and CI files are not loaded, so not shipped.
 */
async function prettyFiles() {
  const result = await build({
    entryPoints: [createRequire(join(root, 'package.json')).resolve('pino-pretty')],
    absWorkingDir: root, bundle: true, write: false, metafile: true, platform: 'node', format: 'cjs', logLevel: 'error',
  });
  const files = new Set();
  for (const input of Object.keys(result.metafile.inputs)) {
    if (!input.startsWith('node_modules/')) fail(`pino-pretty loads ${input}, outside node_modules`);
    files.add(input);
    const top = packageDirOf(input);
    for (let dir = dirname(input); dir.length >= top.length; dir = dirname(dir)) {
      if (existsSync(join(root, dir, 'package.json'))) files.add(join(dir, 'package.json'));
    }
  }
  return [...files].sort();
}

/** The npm packages in the bundle, from its source map (tools/bundle.mjs writes one). */
function bundledPackages() {
  const map = JSON.parse(readFileSync(join(root, 'dist/src/cli.bundle.cjs.map'), 'utf8'));
  const dirs = new Set();
  for (const source of map.sources) {
    const abs = join(root, 'dist/src', source);
    const dir = packageDirOf(relative(root, abs));
    if (dir !== null) dirs.add(dir);
  }
  return [...dirs];
}

const LICENSES = { MIT: 'Expat', ISC: 'ISC', 'BSD-2-Clause': 'BSD-2-clause', 'BSD-3-Clause': 'BSD-3-clause' };

/** A license text as the continuation lines of a License field: empty lines as " .", long lines wrapped at 79. */
function licenseText(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') { out.push(' .'); continue; }
    let rest = line.trimEnd();
    while (rest.length > 78) {
      const cut = rest.lastIndexOf(' ', 78);
      if (cut <= 0) break;
      out.push(` ${rest.slice(0, cut)}`);
      rest = rest.slice(cut + 1);
    }
    out.push(` ${rest}`);
  }
  return out;
}

/** One copyright paragraph for the npm package in DIR (relative to root). */
function copyrightParagraph(dir, comment) {
  const meta = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
  const license = LICENSES[meta.license];
  if (license === undefined) fail(`${dir}: license ${JSON.stringify(meta.license)} is not one tools/deb.mjs knows how to name (add it to LICENSES after checking its terms)`);
  const file = readdirSync(join(root, dir)).find((f) => /^licen[cs]e([-.].*)?$/i.test(f));
  if (file === undefined) fail(`${dir}: no LICENSE file to take its copyright and license text from`);
  const text = readFileSync(join(root, dir, file), 'utf8').replace(/\r/g, '');
  const lines = text.split('\n');
  const holders = lines.filter((l) => /^\s*copyright\b.*(\d{4}|\(c\)|©)/i.test(l)).map((l) => l.trim().replace(/^copyright\s*(\(c\)|©)?\s*/i, ''));
  const body = lines.filter((l) => !/^\s*copyright\b.*(\d{4}|\(c\)|©)/i.test(l) && !/^#*\s*(the )?(mit|isc) licen[sc]e\s*(\(mit\))?\s*$/i.test(l.trim()))
    .join('\n').trim();
  const author = typeof meta.author === 'string' ? meta.author : meta.author?.name;
  return [
    `Files: ${dir}/*`,
    `Copyright: ${(holders.length > 0 ? holders : [`the ${meta.name} authors${author ? ` (${author})` : ''}`]).join('\n ')}`,
    `License: ${license}`,
    ...licenseText(body),
    `Comment: ${meta.name} ${meta.version}; ${comment}`,
  ].join('\n');
}

function copyrightFile(prettyDirs) {
  const ours = readFileSync(join(root, 'LICENSE'), 'utf8').split('\n')
    .filter((l) => !/^(MIT License|Copyright .*)$/.test(l.trim())).join('\n').trim();
  const maintainer = /^Maintainer: (.*)$/m.exec(readFileSync(join(debian, 'control'), 'utf8'))[1];
  const paragraphs = [
    [
      'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/',
      'Upstream-Name: dot1x-operstate',
      `Upstream-Contact: ${maintainer}`,
      'Comment: Built from the dot1x-operstate source tree and the npm packages named below',
      ' (node_modules/ of the tree the package was built from, as `npm ci` installs them).',
    ].join('\n'),
    ['Files: *', 'Copyright: 2026 the dot1x-operstate developers', 'License: Expat', ...licenseText(ours)].join('\n'),
    ...bundledPackages().sort().map((d) => copyrightParagraph(d, `bundled into /${LIB}/dist/src/cli.bundle.cjs`)),
    copyrightParagraph('node_modules/node-addon-api', `its C++ headers are compiled into the native addons in /${LIB}/native`),
    ...prettyDirs.map((d) => copyrightParagraph(d, `installed in /${LIB}/${d}`)),
  ];
  return `${paragraphs.join('\n\n')}\n`;
}

/** ${shlibs:Depends} of the addons, from dpkg-shlibdeps (it wants a debian/control to read). */
function shlibsDepends(files) {
  const dir = mkdtempSync(join(tmpdir(), 'dot1x-shlibs-'));
  try {
    mkdirSync(join(dir, 'debian'));
    writeFileSync(join(dir, 'debian/control'), 'Source: dot1x-operstate\n\nPackage: dot1x-operstate\nArchitecture: any\n');
    // The addons' napi_* symbols come from node itself, which dpkg-shlibdeps cannot know: its
    // warnings about them are expected.
    const out = run('dpkg-shlibdeps', ['-O', ...files.map((f) => `-e${f}`)], { cwd: dir });
    const m = /^shlibs:Depends=(.*)$/m.exec(out);
    if (m === null) fail(`dpkg-shlibdeps printed no shlibs:Depends: ${out}`);
    return m[1];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const { version, epochSeconds } = changelogTop();
const arch = run('dpkg', ['--print-architecture']);
const pretty = await prettyFiles();
const stage = mkdtempSync(join(tmpdir(), 'dot1x-deb-'));
try {
  const addons = [];
  for (const row of SHIPPED) {
    const dest = join(stage, row.to);
    mkdirSync(dirname(dest), { recursive: true });
    if (row.link !== undefined) { symlinkSync(row.link, dest); continue; }
    if (row.dir) { mkdirSync(dest, { recursive: true, mode: 0o755 }); continue; }
    const src = join(root, row.from);
    if (!existsSync(src)) continue; // optional
    if (row.how === 'man') {
      writeFileSync(dest, run('gzip', ['-9n', '--stdout', src], { encoding: 'buffer' }));
    } else if (row.how === 'node-script') {
      const text = readFileSync(src, 'utf8');
      const shebang = /^#!\/usr\/bin\/env -S node( .*)?\n/.exec(text);
      if (shebang === null) fail(`${row.from}: expected a "#!/usr/bin/env -S node" line`);
      const first = absoluteShebang(shebang[1]?.trim() ?? '');
      const body = text.slice(shebang[0].length);
      writeFileSync(dest, first.startsWith('#!/bin/sh') ? `${first}\n${body}${body.endsWith('\n') ? '' : '\n'}//\n` : `${first}\n${body}`);
    } else if (row.how === 'bundle') {
      // Not run itself (the launcher reads it), so no "#!" line; the line stays, empty, so that
      // the source V8 compiles, and with it the code cache, is the same (src/launcher.ts).
      writeFileSync(dest, readFileSync(src, 'utf8').replace(/^#!.*/, ''));
    } else {
      cpSync(src, dest, { recursive: true });
    }
    if (row.how === 'addon') {
      run('strip', ['--remove-section=.comment', '--remove-section=.note', '--strip-unneeded', dest]);
      addons.push(dest);
    }
    chmodSync(dest, row.mode ?? 0o644);
  }
  writeFileSync(join(stage, LIB, 'package.json'), `${JSON.stringify({
    name: pkg.name, version: pkg.version, description: pkg.description, license: pkg.license, type: 'module', engines: pkg.engines,
  }, null, 2)}\n`);
  for (const file of pretty) {
    mkdirSync(dirname(join(stage, LIB, file)), { recursive: true });
    cpSync(join(root, file), join(stage, LIB, file));
  }
  const doc = join(stage, DOC);
  writeFileSync(join(doc, 'copyright'), copyrightFile([...new Set(pretty.map(packageDirOf))].sort()));
  writeFileSync(join(doc, 'changelog.Debian.gz'), run('gzip', ['-9n', '--stdout', join(debian, 'changelog')], { encoding: 'buffer' }));

  // Ownership root:root (--root-owner-group); modes: directories 0755, files as the table says,
  // the rest 0644.
  const files = [];
  const normalise = (p, rel) => {
    const st = lstatSync(p);
    if (st.isSymbolicLink()) return;
    if (st.isDirectory()) {
      chmodSync(p, 0o755);
      for (const e of readdirSync(p)) normalise(join(p, e), rel === '' ? e : `${rel}/${e}`);
      return;
    }
    // Programs among the examples (hooks, the authenticator) stay executable; node_modules
    // holds modules, which are loaded, not run (some are 0755 in their npm tarball).
    const row = SHIPPED.find((r) => r.to === rel);
    if (row?.mode === undefined) chmodSync(p, st.mode & 0o111 && rel.startsWith(`${DOC}/examples/`) ? 0o755 : 0o644);
    files.push(rel);
  };
  normalise(stage, '');

  const installedKiB = run('du', ['-sk', '--apparent-size', stage]).split(/\s+/)[0];
  mkdirSync(join(stage, 'DEBIAN'));
  const substitutions = {
    Version: version, Architecture: arch, 'Installed-Size': installedKiB, 'node:Minimum': NODE_MIN, 'shlibs:Depends': shlibsDepends(addons),
  };
  const control = readFileSync(join(debian, 'control'), 'utf8').replace(/\$\{([^}]+)\}/g, (whole, name) => {
    if (!(name in substitutions)) fail(`tools/debian/control: unknown substitution ${whole}`);
    return substitutions[name];
  });
  writeFileSync(join(stage, 'DEBIAN/control'), control);
  // Files under /etc are the administrator's once installed: dpkg keeps their changes (conffiles),
  // and md5sums lists the others (dpkg --verify, debsums).
  const conffiles = files.filter((f) => f.startsWith('etc/'));
  if (conffiles.length > 0) writeFileSync(join(stage, 'DEBIAN/conffiles'), conffiles.map((f) => `/${f}\n`).join(''));
  const sums = run('md5sum', files.filter((f) => !f.startsWith('etc/')).sort(), { cwd: stage, maxBuffer: 16 * 1024 * 1024 });
  writeFileSync(join(stage, 'DEBIAN/md5sums'), `${sums}\n`);
  for (const script of ['postinst', 'prerm', 'postrm']) {
    cpSync(join(debian, script), join(stage, 'DEBIAN', script));
    chmodSync(join(stage, 'DEBIAN', script), 0o755);
  }
  chmodSync(join(stage, 'DEBIAN'), 0o755);
  for (const f of ['control', 'md5sums', ...(conffiles.length > 0 ? ['conffiles'] : [])]) chmodSync(join(stage, 'DEBIAN', f), 0o644);

  mkdirSync(outDir, { recursive: true });
  const deb = join(outDir, `${pkg.name}_${version}_${arch}.deb`);
  // SOURCE_DATE_EPOCH: file times in the archive are clamped to the changelog's date, so that the
  // same tree makes the same package.
  run('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', stage, deb], { env: { ...process.env, SOURCE_DATE_EPOCH: String(epochSeconds) } });
  console.log(deb);
} finally {
  rmSync(stage, { recursive: true, force: true });
}
