/**
 * What the system lab's systemd sees as its root file system (docs/lab.md#the-system-lab):
 *
 * - the host's own /usr, /etc and /var, with the package as built from this tree laid over them:
 *   tools/deb.mjs makes the .deb, `dpkg-deb -x` unpacks it, and what it puts in /lib goes to
 *   /usr/lib where /lib is a link to usr/lib (merged /usr, as dpkg does it on Debian 12). So the
 *   program is /usr/bin/dot1x-operstate and the unit /lib/systemd/system/dot1x-operstate@.service,
 *   unmodified, as on an installed host. The unpacked package lives in the lab's directory under
 *   the host's /tmp, never in the clone, which may be under /root (ProtectHome= hides that);
 * - /usr read-only, /etc and /var with a tmpfs upper layer, /run, /tmp and /var/tmp tmpfs, a /dev
 *   of its own, /sys and /proc/sys read-only except the network namespace's part: whatever the lab
 *   or its units write stays in the lab's mount namespace and goes with it;
 * - in /run/systemd (the place for runtime configuration, systemd.unit(5)): `lab.target`, the
 *   boot target, which wants only the units a lab asks for (it stands in for multi-user.target,
 *   where `systemctl enable` puts them); masks (links to /dev/null) for every unit the host's
 *   targets pull in (udev, getty, timers, tmpfiles, ...) but journald and whatever the lab keeps;
 *   masks for every generator (fstab, sysv, getty, ...); a system.conf drop-in;
 * - wpa_supplicant-wired@eth0.service as a full unit in /run/systemd/system: Debian's template
 *   with its `Requires=` of the udev device unit left out (no udev, so no device unit: the
 *   dependency would fail), and its configuration in /etc/wpa_supplicant.
 *
 * Without the private /tmp and the systemd-tmpfiles mask, systemd's tmpfiles set-up would clean
 * the host's /tmp (tmp.conf) the first time a unit pulls in sysinit.target.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The clone's root, from dist/test/lab/ where this file runs. */
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** Where units and generators are looked for on the host (systemd.unit(5), systemd.generator(7)). */
const UNIT_DIRS = ['/etc/systemd/system', '/run/systemd/system', '/usr/local/lib/systemd/system', '/lib/systemd/system', '/usr/lib/systemd/system'];
const GENERATOR_DIRS = ['/etc/systemd/system-generators', '/usr/local/lib/systemd/system-generators', '/lib/systemd/system-generators', '/usr/lib/systemd/system-generators'];

/** Units a lab keeps from what the host's targets pull in: the journal (journalctl, systemctl status). */
export const ALWAYS_KEPT = ['systemd-journald.service', 'systemd-journald.socket', 'systemd-journald-dev-log.socket'];

/**
 * Masked whether or not a target pulls them in: udev (there is none in a lab), the tmpfiles
 * set-up (see the file comment), login and consoles.
 */
const ALWAYS_MASKED = [
  'systemd-udevd.service', 'systemd-udevd-control.socket', 'systemd-udevd-kernel.socket', 'systemd-udev-trigger.service',
  'systemd-udev-settle.service', 'systemd-tmpfiles-setup.service', 'systemd-tmpfiles-setup-dev.service',
  'systemd-tmpfiles-clean.service', 'systemd-tmpfiles-clean.timer', 'systemd-logind.service', 'getty@.service',
  'serial-getty@.service', 'console-getty.service', 'container-getty@.service', 'systemd-networkd-wait-online.service',
];

/** A file the lab puts in place at boot: its content (mode 0644 or given), or a symbolic link (e.g. what `systemctl enable` makes). */
export type LabFile = string | { content: string; mode: number } | { symlink: string };

export interface ImageOptions {
  /** The lab's directory (mode 0700, under the host's /tmp). */
  dir: string;
  /** Units lab.target wants: started at boot, as `systemctl enable` + multi-user.target would. */
  bootUnits: string[];
  /** Units to keep although a host target pulls them in (and would have them masked). */
  keep: string[];
  /** The interface wpa_supplicant-wired@ is made for. */
  ifname: string;
  /** wpa_supplicant's network block for that interface (its configuration file's content). */
  wpaConfig: string;
  /** More files: absolute path in the lab -> content (mode 0644, or { content, mode }), or a symbolic link ({ symlink: target }). */
  files: Record<string, LabFile>;
  /** Run systemd-udevd (see UDEV_UNITS and innerScript). */
  udev?: boolean;
}

/**
 * What a lab with udev keeps: the daemon and its two sockets (the kernel's uevents of the lab's
 * network namespace; the control socket). Never the coldplug trigger, which would write "add"
 * into the uevent file of every device of the host.
 */
const UDEV_UNITS = ['systemd-udevd.service', 'systemd-udevd-control.socket', 'systemd-udevd-kernel.socket'];

/**
 * The host's udev rules a lab with udev keeps: those of network devices. The lab's udevd also
 * receives the uevents of the host's other devices (the kernel sends those to every network
 * namespace of the initial user namespace, e.g. a module loaded by another test): every other
 * rule file is masked (a link to /dev/null in /etc/udev/rules.d), so that no rule loads a
 * module or runs a program for them. /sys's directories are read-only too (innerScript).
 */
const UDEV_RULES_KEPT = ['75-net-description.rules', '80-net-setup-link.rules', '99-systemd.rules'];
const UDEV_RULE_DIRS = ['/etc/udev/rules.d', '/run/udev/rules.d', '/usr/local/lib/udev/rules.d', '/lib/udev/rules.d', '/usr/lib/udev/rules.d'];

/** The paths inside the lab directory. */
export function imagePaths(dir: string): { root: string; files: string; layers: string; dev: string; shared: string; inner: string; deb: string } {
  return {
    /** The unpacked package, /lib folded into /usr/lib. */
    root: join(dir, 'root'),
    /** Copied over / inside the lab before systemd starts (cp -a). */
    files: join(dir, 'files'),
    /** Mount point of the tmpfs that holds the upper layers of /etc and /var. */
    layers: join(dir, 'layers'),
    /** Mount point where the lab's /dev is put together before it is moved to /dev. */
    dev: join(dir, 'dev'),
    /** Bind-mounted at /run/lab inside: the notify socket of the lab's systemd. */
    shared: join(dir, 'shared'),
    inner: join(dir, 'inner.sh'),
    deb: join(dir, 'deb'),
  };
}

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: '/', timeout: 120_000 });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${String(r.status)}): ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/** The .deb of this tree, unpacked into ROOTDIR as dpkg would install it on this host. */
function unpackPackage(debDir: string, rootDir: string): void {
  const deb = run(process.execPath, [join(ROOT, 'tools/deb.mjs'), '--out', debDir]).split('\n').at(-1)!;
  run('dpkg-deb', ['-x', deb, rootDir]);
  // Merged /usr: where the host's /lib (or /bin, /sbin) is a link into /usr, so is the package's.
  for (const top of readdirSync(rootDir)) {
    const hostPath = `/${top}`;
    if (!existsSync(hostPath) || !lstatSync(hostPath).isSymbolicLink()) continue;
    const target = resolve('/', readlinkSync(hostPath));
    cpSync(join(rootDir, top), join(rootDir, target), { recursive: true });
    rmSync(join(rootDir, top), { recursive: true });
  }
  for (const top of readdirSync(rootDir)) {
    if (!['usr', 'etc'].includes(top)) throw new Error(`the package installs into /${top}: the system lab lays only /usr and /etc over the host's`);
  }
  mkdirSync(join(rootDir, 'etc'), { recursive: true });
  // Where node is not the system's /usr/bin/node (the package's Depends: nodejs), the lab binds
  // this test's node there; the mount needs a file to go on.
  if (!existsSync('/usr/bin/node')) {
    mkdirSync(join(rootDir, 'usr/bin'), { recursive: true });
    writeFileSync(join(rootDir, 'usr/bin/node'), '');
  }
}

/** Names in the *.wants/ and *.requires/ directories of every unit directory of the host. */
function pulledInByTargets(): Set<string> {
  const names = new Set<string>();
  for (const dir of UNIT_DIRS) {
    let entries: string[];
    try { entries = readdirSync(dir); } catch { continue; }
    for (const e of entries.filter((n) => n.endsWith('.wants') || n.endsWith('.requires'))) {
      try { for (const unit of readdirSync(join(dir, e))) names.add(unit); } catch { /* not a directory */ }
    }
  }
  return names;
}

/** Debian's wpa_supplicant-wired@.service made into a full unit for IFNAME, without its device dependency. */
export function wiredSupplicantUnit(ifname: string): string {
  let template: string;
  try {
    template = readFileSync('/lib/systemd/system/wpa_supplicant-wired@.service', 'utf8');
  } catch {
    throw new Error('/lib/systemd/system/wpa_supplicant-wired@.service is missing: apt-get install wpasupplicant');
  }
  const lines = template.split('\n').filter((l) => !/^Requires=sys-subsystem-net-devices-%i\.device$/.test(l));
  if (lines.length === template.split('\n').length) {
    throw new Error('wpa_supplicant-wired@.service has no Requires= of its device unit any more: check what the system lab replaces');
  }
  return [
    `# The system lab's stand-in for wpa_supplicant-wired@${ifname}: Debian's template without`,
    '# Requires=sys-subsystem-net-devices-%i.device (no udev in the lab, so no device unit).',
    ...lines,
  ].join('\n').replaceAll('%I', ifname).replaceAll('%i', ifname);
}

function put(filesDir: string, path: string, content: string, mode = 0o644): void {
  const p = join(filesDir, path);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, content);
  chmodSync(p, mode);
}

function mask(filesDir: string, dir: string, name: string): void {
  mkdirSync(join(filesDir, dir), { recursive: true });
  const p = join(filesDir, dir, name);
  if (!existsSync(p)) symlinkSync('/dev/null', p);
}

/** The shell that sets up the mounts as PID 1 of the lab's namespaces, then execs systemd. */
function innerScript(): string {
  return `#!/bin/sh
# The system lab's PID 1 before systemd (test/lab/system-image.ts): runs in fresh pid, mount,
# uts, ipc and cgroup namespaces inside the lab's network namespace. $1: the lab's directory.
set -eu
lab=$1
mount --make-rprivate /
# ip netns exec made /sys the lab network namespace's sysfs. Read-only, as in a container:
# systemd-networkd then knows that no udev runs and does not wait for one. With udev ($3 = 1):
# /sys itself writable, which is what systemd-udevd's ConditionPathIsReadWrite=/sys and
# networkd's udev_available() look at, and every directory in it read-only, so that nothing in
# the lab writes an attribute of the host's devices.
if [ "$3" = 1 ]; then
  for d in /sys/*; do mount --bind "$d" "$d"; mount -o remount,bind,ro "$d"; done
else
  mount -o bind,ro /sys /sys
fi
# The cgroup namespace is rooted at the lab's cgroup: mounted here, cgroup2 shows only that
# subtree, and a mount from a non-initial cgroup namespace leaves the hierarchy's options alone.
mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 /sys/fs/cgroup
# /proc/sys holds host-wide settings; only the network namespace's part stays writable.
mount --bind /proc/sys /proc/sys
mount -o remount,bind,ro /proc/sys
mount --bind /proc/sys/net /proc/sys/net
mount -o remount,bind,rw /proc/sys/net
# A /dev of its own: nothing in the lab creates or removes a node in the host's /dev.
dev="$lab/dev"
mount -t tmpfs -o mode=0755,nosuid lab-dev "$dev"
for n in null zero full random urandom tty; do touch "$dev/$n"; mount --bind "/dev/$n" "$dev/$n"; done
mkdir "$dev/pts" "$dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$dev/pts"
mount -t tmpfs -o mode=1777,nosuid,nodev lab-shm "$dev/shm"
ln -s pts/ptmx "$dev/ptmx"
ln -s /proc/self/fd "$dev/fd"
ln -s /proc/self/fd/0 "$dev/stdin"
ln -s /proc/self/fd/1 "$dev/stdout"
ln -s /proc/self/fd/2 "$dev/stderr"
mount --move "$dev" /dev
# The package over /usr (read-only) and /etc; /etc and /var written to a tmpfs upper layer.
mount -t tmpfs -o mode=0700 lab-layers "$lab/layers"
mkdir "$lab/layers/etc" "$lab/layers/etc.work" "$lab/layers/var" "$lab/layers/var.work"
mount -t overlay lab-usr -o "ro,lowerdir=$lab/root/usr:/usr" /usr
mount -t overlay lab-etc -o "lowerdir=$lab/root/etc:/etc,upperdir=$lab/layers/etc,workdir=$lab/layers/etc.work" /etc
mount -t overlay lab-var -o "lowerdir=/var,upperdir=$lab/layers/var,workdir=$lab/layers/var.work" /var
[ -s /usr/bin/node ] || mount --bind "$2" /usr/bin/node
# What the host has mounted below /run, /tmp and /var/tmp (network namespaces, ...) goes from
# this mount namespace before the tmpfs covers it: systemd would list it as mount units.
findmnt -rno TARGET | grep -E '^/(run|tmp|var/tmp)/' | grep -vF "$lab/" | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || :; done
mount -t tmpfs -o mode=0755,nosuid,nodev lab-run /run
mkdir /run/lab
mount --bind "$lab/shared" /run/lab
# With udev: PID 1 subscribes to udevd's events only if /run/udev/control exists when it starts
# or /dev is a devtmpfs (device_monitor_new_full(), systemd's
# src/libsystemd/sd-device/device-monitor.c). The lab's /dev is a tmpfs and udevd starts after
# PID 1, so a placeholder stands there; systemd-udevd-control.socket replaces it when it binds
# (systemd unlinks what is in a socket's way).
if [ "$3" = 1 ]; then mkdir /run/udev; touch /run/udev/control; fi
# Each top-level entry, never "$lab/files/." itself: cp -a would give the HOST's / the mode of
# that directory (0700), and every user but root would lose the file system (seen).
for f in "$lab/files"/* ; do cp -a "$f" / ; done
# Last: the lab's directory is under the host's /tmp, which this hides.
mount -t tmpfs -o mode=1777,nosuid,nodev lab-tmp /tmp
mount -t tmpfs -o mode=1777,nosuid,nodev lab-var-tmp /var/tmp
echo "lab: starting systemd"
exec env -i container=system-lab NOTIFY_SOCKET=/run/lab/notify PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \\
  /lib/systemd/systemd --system --unit=lab.target --show-status=no
`;
}

/**
 * Lays out the lab's directory: the unpacked package, the files copied in at boot, the inner
 * script. Returns the units it masked.
 */
export function buildImage(o: ImageOptions): string[] {
  const p = imagePaths(o.dir);
  for (const d of [p.root, p.files, p.layers, p.dev, p.shared, p.deb]) mkdirSync(d, { mode: 0o700 });
  unpackPackage(p.deb, p.root);

  const keep = new Set([...ALWAYS_KEPT, ...o.keep, ...o.bootUnits, ...(o.udev ? UDEV_UNITS : [])]);
  const masked = [...new Set([...pulledInByTargets(), ...ALWAYS_MASKED])].filter((u) => !keep.has(u) && !u.endsWith('.target')).sort();
  for (const u of masked) mask(p.files, 'run/systemd/system', u);
  for (const dir of GENERATOR_DIRS) {
    let gens: string[];
    try { gens = readdirSync(dir); } catch { continue; }
    for (const g of gens) mask(p.files, 'run/systemd/system-generators', g);
  }
  put(p.files, 'run/systemd/system/lab.target', [
    '[Unit]',
    'Description=System lab (stands in for multi-user.target)',
    // As multi-user.target: the basic system (journald, and the masks for the rest) first.
    'Requires=basic.target',
    'After=basic.target',
    'AllowIsolate=yes',
    ...o.bootUnits.map((u) => `Wants=${u}`),
    '',
  ].join('\n'));
  put(p.files, 'run/systemd/system.conf.d/system-lab.conf', [
    '[Manager]',
    '# No core files: the watchdog kills with SIGABRT, and nothing in the lab may write outside it.',
    'DefaultLimitCORE=0',
    '',
  ].join('\n'));
  put(p.files, `run/systemd/system/wpa_supplicant-wired@${o.ifname}.service`, wiredSupplicantUnit(o.ifname));
  // Without udev, the package's drop-in that binds wpa_supplicant to its port's device unit would
  // fail it as Debian's Requires= would: masked (a drop-in of the same name in /run wins).
  if (!o.udev) mask(p.files, 'run/systemd/system/wpa_supplicant-wired@.service.d', 'dot1x-operstate-device.conf');
  put(p.files, `etc/wpa_supplicant/wpa_supplicant-wired-${o.ifname}.conf`, o.wpaConfig, 0o600);
  for (const [path, f] of Object.entries(o.files)) {
    if (!path.startsWith('/')) throw new Error(`system lab file ${path}: give an absolute path`);
    if (typeof f === 'string') put(p.files, path, f);
    else if ('symlink' in f) { mkdirSync(dirname(join(p.files, path)), { recursive: true }); symlinkSync(f.symlink, join(p.files, path)); }
    else put(p.files, path, f.content, f.mode);
  }
  if (o.udev) {
    for (const dir of UDEV_RULE_DIRS) {
      let rules: string[];
      try { rules = readdirSync(dir); } catch { continue; }
      for (const r of rules.filter((n) => n.endsWith('.rules') && !UDEV_RULES_KEPT.includes(n))) mask(p.files, 'etc/udev/rules.d', r);
    }
  }
  writeFileSync(p.inner, innerScript(), { mode: 0o700 });
  return masked;
}

