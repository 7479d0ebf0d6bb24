/**
 * A root file system to install a package into without touching the host's: a mount namespace
 * of its own where /usr, /etc and /var are overlays on the host's (what dpkg writes there lands
 * in a temporary directory) and /run is an empty tmpfs (so maintainer scripts find no running
 * systemd to talk to, and purge no run directory of the host's). dpkg, its maintainer scripts
 * and the installed program run inside it (nsenter); the host's /usr, /etc, package database
 * and systemd never see the package. /tmp and /proc are the host's: the lab's namespaces,
 * sockets and processes stay reachable.
 *
 * A process (sleep) holds the namespace; it is killed after the test (or at exit), which ends
 * the namespace and its mounts once the last process in it is gone, and the directory is
 * removed.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

export interface RunResult { code: number; stdout: string; stderr: string }

const SETUP = `set -e
dir=$1
for top in usr etc var; do
  mkdir -p "$dir/upper/$top" "$dir/work/$top"
  mount -t overlay d1x-pkgroot -o "lowerdir=/$top,upperdir=$dir/upper/$top,workdir=$dir/work/$top" "/$top"
done
mount -t tmpfs -o mode=0755 d1x-pkgroot /run
echo ready
exec sleep infinity
`;

const live = new Set<ChildProcess>();
process.on('exit', () => { for (const c of live) c.kill('SIGKILL'); });

export class PackageRoot {
  private constructor(private readonly holder: ChildProcess, readonly dir: string) {}

  /** Make the namespace; it is taken down after T. Rejects within 10 s when it cannot be made. */
  static async create(t: TestContext): Promise<PackageRoot> {
    const dir = mkdtempSync(join(tmpdir(), 'd1x-pkgroot-'));
    // slave: mounts the host makes later (the lab's network namespaces under /run/netns) still
    // reach this namespace; nothing mounted here reaches the host.
    const holder = spawn('unshare', ['--mount', '--propagation', 'slave', 'sh', '-c', SETUP, 'sh', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(holder);
    const closed = new Promise<void>((resolve) => holder.on('close', () => resolve()));
    t.after(async () => {
      holder.kill('SIGKILL');
      await closed;
      live.delete(holder);
      rmSync(dir, { recursive: true, force: true });
    });
    let err = '';
    holder.stderr!.setEncoding('utf8').on('data', (c: string) => { err += c; });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`the package root did not come up within 10 s: ${err}`)), 10_000);
      holder.stdout!.setEncoding('utf8').on('data', (c: string) => {
        out += c;
        if (out.includes('ready\n')) { clearTimeout(timer); resolve(); }
      });
      holder.on('close', (code) => { clearTimeout(timer); reject(new Error(`the package root's setup exited with ${String(code)}: ${err}`)); });
    });
    return new PackageRoot(holder, dir);
  }

  /** The mount namespace's handle, for nsenter --mount. */
  get mountNs(): string { return `/proc/${this.holder.pid!}/ns/mnt`; }

  /** A command prefix that runs the rest inside this root (for DaemonProcess's `wrap`). */
  get wrap(): string[] { return ['nsenter', `--mount=${this.mountNs}`, '--']; }

  /** Where a path of this root is seen from the host (through the holder's /proc/PID/root). */
  path(p: string): string { return `/proc/${this.holder.pid!}/root${p}`; }

  /** Run CMD inside this root from /, bounded (default 120 s); never rejects. */
  run(cmd: string, args: string[], opts: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<RunResult> {
    return new Promise((resolve) => {
      execFile('nsenter', [`--mount=${this.mountNs}`, '--', cmd, ...args], {
        cwd: '/', timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin`, DEBIAN_FRONTEND: 'noninteractive', ...opts.env },
      }, (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 1;
        resolve({ code, stdout, stderr });
      });
    });
  }
}
