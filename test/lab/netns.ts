/**
 * Network namespaces for tests: created with unique names, always removed (after the test,
 * on process exit, on SIGINT/SIGTERM), together with every process left running inside.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, statSync } from 'node:fs';
import { promisify } from 'node:util';
import type { TestContext } from 'node:test';

const execFileP = promisify(execFile);

/** Namespaces created by this process and not yet removed, with their inode (namespaces(7)). */
const live = new Map<string, number>();

/**
 * Appends "INODE add|del MS" to the ledger test/run.mjs names in D1X_NETNS_LEDGER: which
 * namespaces the suite had, and when, so that it can tell what of the host's run directory its
 * tests left (names there carry the namespace's inode, which the kernel reuses afterwards).
 */
function record(inode: number, what: 'add' | 'del', ms = Date.now()): void {
  const ledger = process.env.D1X_NETNS_LEDGER;
  if (ledger !== undefined && ledger !== '') appendFileSync(ledger, `${inode} ${what} ${ms}\n`);
}

function removeSync(name: string): void {
  // Kill what still runs inside first: deleting a namespace does not stop its processes.
  const pids = spawnSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).stdout ?? '';
  for (const pid of pids.split(/\s+/).filter(Boolean)) {
    try { process.kill(Number(pid), 'SIGKILL'); } catch { /* already gone */ }
  }
  spawnSync('ip', ['netns', 'del', name]);
  const inode = live.get(name);
  if (inode !== undefined && inode !== 0) record(inode, 'del');
  live.delete(name);
}

/** What else goes when this process does (see atProcessExit). */
const cleanups: Array<() => void> = [];

function cleanUpAll(): void {
  for (const n of [...live.keys()]) removeSync(n);
  for (const f of cleanups.splice(0)) {
    try { f(); } catch { /* the others still run */ }
  }
}

let hooked = false;
function hookProcessExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', cleanUpAll);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      cleanUpAll();
      process.kill(process.pid, sig);
    });
  }
}

/** Runs F (synchronous) when this process exits, also on SIGINT/SIGTERM, after its namespaces are gone. */
export function atProcessExit(f: () => void): void {
  hookProcessExit();
  cleanups.push(f);
}

/** A short unique suffix: interface names are limited to 15 bytes (IFNAMSIZ - 1). */
export function uniqueSuffix(): string {
  return randomBytes(3).toString('hex');
}

/**
 * Whether this process may create namespaces. In CI (CI set) a missing privilege fails the
 * test; elsewhere the test is skipped with a message saying how to run it.
 */
export function needsRoot(t: TestContext): boolean {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot) return true;
  const msg = 'needs root and network namespaces: run the tests with sudo (sudo npm test)';
  if (process.env.CI) throw new Error(`CI is set but this test cannot run: ${msg}`);
  process.stderr.write(`\n*** SKIPPED ${t.name}: ${msg} ***\n`);
  t.skip(msg);
  return false;
}

export class Netns {
  readonly name: string;
  private constructor(name: string) { this.name = name; }

  /** Create a namespace with loopback up; removed by t.after when a test context is given. */
  static async create(prefix: string, t?: TestContext): Promise<Netns> {
    hookProcessExit();
    const name = `d1x-${prefix}-${uniqueSuffix()}`;
    const since = Date.now();
    await execFileP('ip', ['netns', 'add', name]);
    live.set(name, 0);
    const inode = statSync(`/run/netns/${name}`).ino;
    live.set(name, inode);
    record(inode, 'add', since);
    const ns = new Netns(name);
    t?.after(() => ns.remove());
    await ns.ip('link', 'set', 'lo', 'up');
    return ns;
  }

  /** Path of the namespace's handle, for setns(2). */
  get path(): string { return `/run/netns/${this.name}`; }

  /** Run `ip ARGS` inside the namespace. */
  async ip(...args: string[]): Promise<string> {
    const { stdout } = await execFileP('ip', ['-n', this.name, ...args]);
    return stdout;
  }

  /** Run a command inside the namespace and return its stdout; rejects on non-zero exit. */
  async exec(cmd: string, args: string[] = [], opts: { timeoutMs?: number } = {}): Promise<string> {
    const { stdout } = await execFileP('ip', ['netns', 'exec', this.name, cmd, ...args], {
      timeout: opts.timeoutMs ?? 10_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  }

  /** Argument vector that runs CMD inside the namespace (for spawn). */
  argv(cmd: string, args: string[] = []): [string, string[]] {
    return ['ip', ['netns', 'exec', this.name, cmd, ...args]];
  }

  /** `ip -j -d link show [DEV]` parsed. */
  async links(dev?: string): Promise<Array<Record<string, unknown>>> {
    const out = await this.ip('-j', '-d', 'link', 'show', ...(dev ? ['dev', dev] : []));
    return JSON.parse(out) as Array<Record<string, unknown>>;
  }

  /** Read /sys/class/net/DEV/FILE as seen inside the namespace. Note: reading `carrier` flushes linkwatch. */
  async sysfs(dev: string, file: string): Promise<string> {
    return (await this.exec('cat', [`/sys/class/net/${dev}/${file}`])).trim();
  }

  /** Remove the namespace and kill everything still running inside. Idempotent. */
  remove(): void {
    if (live.has(this.name)) removeSync(this.name);
  }
}

/** A veth pair with one end in each namespace, both ends admin up. */
export async function vethPair(a: Netns, aName: string, b: Netns, bName: string): Promise<void> {
  const tmp = `v${uniqueSuffix()}`;
  await a.ip('link', 'add', aName, 'type', 'veth', 'peer', 'name', tmp);
  await a.ip('link', 'set', tmp, 'netns', b.name);
  await b.ip('link', 'set', tmp, 'name', bName);
  await a.ip('link', 'set', aName, 'up');
  await b.ip('link', 'set', bName, 'up');
}

/** Whether a program is installed (for a clear failure message instead of ENOENT). */
export function haveProgram(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore', env: { PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` } });
    return true;
  } catch {
    return false;
  }
}
