/**
 * The package's udev rule (examples/udev/83-dot1x-operstate.rules, docs/hotplug.md) under
 * `udevadm test` on real interfaces: veths in a namespace, the rule as the .deb installs it, the
 * host's own rules beside it, and an administrator's rule that names two of the ports (one by
 * the name a .link file gives it, one by its MAC). udevadm test runs the rules as udevd does,
 * PROGRAM and the rename included (not RUN), so the kernel shows what the rule did.
 *
 * Nothing reaches the host: each udevadm runs in the namespace's own mount namespace (ip netns
 * exec), made private, with a tmpfs on /run holding the administrator's rule
 * (/run/udev/rules.d) and the .link file (/run/systemd/network), and the package's rule laid on
 * the host's /lib/udev/rules.d by a read-only overlay. The test checks that the host's
 * /lib/udev/rules.d and / are as they were.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Netns, needsRoot } from './lab/netns.js';
import { labDir } from './lab/peer-process.js';

const execFileP = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RULE = '83-dot1x-operstate.rules';
/** The host's rules directory (on merged /usr, /lib is a link to usr/lib). */
const HOST_RULES = existsSync('/usr/lib/udev/rules.d') ? '/usr/lib/udev/rules.d' : '/lib/udev/rules.d';

const RENAMED_MAC = '02:d1:00:00:00:0a';
const RENAMED = 'enx02d10000000a';
const BY_MAC = '02:d1:00:00:00:0b';

/** The administrator's rule naming the ports, and a .link file that names one as a USB adapter's would be. */
const ADMIN_RULE = [
  '# the administrator\'s: which ports dot1x-operstate gates',
  `SUBSYSTEM=="net", NAME=="${RENAMED}", ENV{DOT1X_OPERSTATE}="1"`,
  `SUBSYSTEM=="net", ATTR{address}=="${BY_MAC}", ENV{DOT1X_OPERSTATE}="1"`,
  '',
].join('\n');
/** What 73-usb-net-by-mac.link does for a USB adapter (NamePolicy=mac), for a veth, which has no ID_NET_NAME_MAC. */
const LINK_FILE = ['[Match]', `MACAddress=${RENAMED_MAC}`, '', '[Link]', `Name=${RENAMED}`, ''].join('\n');

const SCRIPT = `set -eu
dir=$1 action=$2 dev=$3
mount --make-rprivate /
mount -t tmpfs -o mode=0755 d1x-udev-run /run
mkdir -p /run/udev/rules.d /run/systemd/network
cp "$dir/82-dot1x-operstate-ports.rules" /run/udev/rules.d/
cp "$dir/10-dock.link" /run/systemd/network/
mount -t overlay -o "lowerdir=$dir/pkg/lib/udev/rules.d:${HOST_RULES}" d1x-udev-rules ${HOST_RULES}
exec udevadm test --action="$action" "/sys/class/net/$dev"
`;

interface UdevTest { properties: Record<string, string>; log: string }

/** `udevadm test --action=ACTION` on DEV inside NS, as the script above sets it up. */
async function udevadmTest(ns: Netns, dir: string, action: string, dev: string): Promise<UdevTest> {
  const { stdout, stderr } = await execFileP('ip', ['netns', 'exec', ns.name, 'sh', join(dir, 'udev-test.sh'), dir, action, dev],
    { timeout: 60_000, maxBuffer: 16 * 1024 * 1024, cwd: '/' });
  const properties: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) properties[m[1]!] = m[2]!;
  }
  return { properties, log: stderr };
}

async function linkmode(ns: Netns, dev: string): Promise<{ linkmode: string; operstate: string }> {
  const [l] = await ns.links(dev);
  return { linkmode: String(l?.linkmode), operstate: String(l?.operstate) };
}

const wants = (name: string): string => `wpa_supplicant-wired@${name}.service dot1x-operstate@${name}.service`;

test('udevadm test: the rule puts a named port in linkmode 1 during rule processing and wants its two instances (add, and the move of a rename); other ports are left alone', async (t) => {
  if (!needsRoot(t)) return;
  const hostRules = readdirSync(HOST_RULES).sort();
  const dir = labDir('udev', t);
  const out = (await execFileP(process.execPath, [join(ROOT, 'tools/deb.mjs'), '--out', join(dir, 'deb')], { timeout: 180_000, cwd: '/' })).stdout;
  await execFileP('dpkg-deb', ['-x', out.trim().split('\n').at(-1)!, join(dir, 'pkg')]);
  assert.equal(readFileSync(join(dir, 'pkg/lib/udev/rules.d', RULE), 'utf8'), readFileSync(join(ROOT, 'examples/udev', RULE), 'utf8'));
  rmSync(join(dir, 'deb'), { recursive: true, force: true });
  writeFileSync(join(dir, '82-dot1x-operstate-ports.rules'), ADMIN_RULE);
  writeFileSync(join(dir, '10-dock.link'), LINK_FILE);
  writeFileSync(join(dir, 'udev-test.sh'), SCRIPT);

  const ns = await Netns.create('udv', t);
  // A port the kernel names (vethN, as a USB adapter's ethN) and udev renames; one named by MAC; one not named.
  await ns.ip('link', 'add', 'address', RENAMED_MAC, 'type', 'veth', 'peer', 'name', 'p0');
  const kernelName = String((await ns.links()).find((l) => l.address === RENAMED_MAC)?.ifname);
  assert.match(kernelName, /^veth\d+$/);
  await ns.ip('link', 'add', 'eth7', 'address', BY_MAC, 'type', 'veth', 'peer', 'name', 'p1');
  await ns.ip('link', 'add', 'eth8', 'type', 'veth', 'peer', 'name', 'p2');

  const renamed = await udevadmTest(ns, dir, 'add', kernelName);
  assert.equal(renamed.properties.INTERFACE, RENAMED, `not renamed:\n${renamed.log}`);
  assert.equal(renamed.properties.DOT1X_OPERSTATE, '1');
  assert.equal(renamed.properties.DOT1X_OPERSTATE_LINKMODE, '1', `the rule's PROGRAM did not succeed:\n${renamed.log}`);
  assert.equal(renamed.properties.SYSTEMD_WANTS, wants(RENAMED), 'the instances of the final name');
  assert.match(renamed.properties.TAGS ?? '', /:systemd:/);
  assert.deepEqual(await linkmode(ns, RENAMED), { linkmode: 'DORMANT', operstate: 'DOWN' });
  // Once up (a network manager, or wpa_supplicant's wired driver), the kernel shows it DORMANT, not UP.
  await ns.ip('link', 'set', 'p0', 'up');
  await ns.ip('link', 'set', RENAMED, 'up');
  assert.deepEqual(await linkmode(ns, RENAMED), { linkmode: 'DORMANT', operstate: 'DORMANT' });

  // The "move" of that rename: systemd ignores the device until it (ID_RENAMING), so the wants
  // are there again; nothing is written.
  await ns.ip('link', 'set', RENAMED, 'mode', 'default');
  const moved = await udevadmTest(ns, dir, 'move', RENAMED);
  assert.equal(moved.properties.SYSTEMD_WANTS, wants(RENAMED), moved.log);
  assert.equal(moved.properties.DOT1X_OPERSTATE_LINKMODE, undefined);
  assert.equal((await linkmode(ns, RENAMED)).linkmode, 'DEFAULT');

  const byMac = await udevadmTest(ns, dir, 'add', 'eth7');
  assert.equal(byMac.properties.DOT1X_OPERSTATE_LINKMODE, '1', byMac.log);
  assert.equal(byMac.properties.SYSTEMD_WANTS, wants('eth7'));
  assert.equal((await linkmode(ns, 'eth7')).linkmode, 'DORMANT');

  const other = await udevadmTest(ns, dir, 'add', 'eth8');
  assert.equal(other.properties.INTERFACE, 'eth8');
  for (const key of ['DOT1X_OPERSTATE', 'DOT1X_OPERSTATE_LINKMODE']) assert.equal(other.properties[key], undefined, key);
  assert.doesNotMatch(other.properties.SYSTEMD_WANTS ?? '', /dot1x-operstate|wpa_supplicant/);
  assert.equal((await linkmode(ns, 'eth8')).linkmode, 'DEFAULT');
  assert.doesNotMatch(other.log, /83-dot1x-operstate\.rules:\d+ PROGRAM/);

  // A later "change" of a named port: nothing written, nothing wanted (it would start an
  // instance the administrator stopped).
  await ns.ip('link', 'set', 'eth7', 'mode', 'default');
  const changed = await udevadmTest(ns, dir, 'change', 'eth7');
  assert.equal(changed.properties.DOT1X_OPERSTATE, '1');
  assert.equal(changed.properties.DOT1X_OPERSTATE_LINKMODE, undefined);
  assert.doesNotMatch(changed.properties.SYSTEMD_WANTS ?? '', /dot1x-operstate/);
  assert.equal((await linkmode(ns, 'eth7')).linkmode, 'DEFAULT');

  assert.deepEqual(readdirSync(HOST_RULES).sort(), hostRules, "the host's rules directory changed");
  assert.equal(existsSync(join(HOST_RULES, RULE)), hostRules.includes(RULE));
  assert.equal((statSync('/').mode & 0o7777).toString(8), '755', "the host's / changed mode");
});
