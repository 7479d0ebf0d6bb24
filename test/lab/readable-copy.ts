/**
 * A copy of the built project that an unprivileged user can read, for tests that run our code
 * as `nobody`. The clone itself may sit under a directory only root can enter (/root is 0700 on
 * Debian), so such a process must never be pointed at the clone's own files.
 *
 * The copy holds what the compiled code loads at run time: package.json (ESM), dist/, the
 * native addons and the runtime packages of node_modules. It is made once per test process in
 * a fresh temporary directory (mode 0755) and removed at exit.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The clone's root, from dist/test/lab/ where this file runs. */
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** Build-time packages: nothing at run time imports them. */
const SKIP_PACKAGES = new Set(['typescript', '@types', 'undici-types', 'netlink', 'node-addon-api', 'node-gyp-build']);

export interface ReadableCopy {
  root: string;
  /** The copied dist/src/cli.js. */
  cli: string;
  /** Path inside the copy of a file of the clone's dist/ (absolute path or file: URL). */
  resolve(fileInDist: string | URL): string;
}

let copy: ReadableCopy | undefined;

function keep(src: string): boolean {
  const rel = relative(ROOT, src);
  if (rel === '') return true;
  const parts = rel.split(sep);
  if (parts[0] === 'node_modules') return parts.length < 2 || !SKIP_PACKAGES.has(parts[1]!);
  if (parts[0] === 'native') {
    // native/<addon>/build/Release/<addon>.node only.
    if (parts.length <= 3) return parts.length < 3 || parts[2] === 'build';
    return parts[3] === 'Release' && (parts.length === 4 || parts[4]!.endsWith('.node'));
  }
  return parts[0] === 'dist' || rel === 'package.json';
}

/** The copy (made on first use). Every directory in it is 0755 and every file world-readable. */
export function readableCopy(): ReadableCopy {
  if (copy) return copy;
  const root = mkdtempSync(join(tmpdir(), 'd1x-readable-'));
  process.once('exit', () => rmSync(root, { recursive: true, force: true }));
  chmodSync(root, 0o755);
  for (const entry of ['package.json', 'dist', 'native', 'node_modules']) {
    if (!existsSync(join(ROOT, entry))) continue;
    cpSync(join(ROOT, entry), join(root, entry), { recursive: true, filter: keep });
  }
  // cpSync keeps modes, and a clone made under umask 077 has files only root may read.
  const r = spawnSync('chmod', ['-R', 'a+rX', root]);
  if (r.status !== 0) throw new Error(`chmod -R a+rX ${root} failed: ${String(r.stderr)}`);
  const distRoot = join(ROOT, 'dist');
  copy = {
    root,
    cli: join(root, 'dist', 'src', 'cli.js'),
    resolve(fileInDist) {
      const path = typeof fileInDist === 'string' ? fileInDist : fileURLToPath(fileInDist);
      const rel = relative(distRoot, path);
      if (rel.startsWith('..')) throw new Error(`${path} is not under ${distRoot}`);
      return join(root, 'dist', rel);
    },
  };
  return copy;
}

/** The command prefix that runs a program as nobody (setpriv(1), util-linux). */
export const AS_NOBODY = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'];
