/**
 * Proving that a command runs only the system's copy of a program (nft, openssl), never one a
 * caller's $PATH puts first, and refuses one others could change or does without it: a planted
 * program first in $PATH that leaves a proof, and command prefixes that give the command alone
 * (a private mount namespace) a system program writable by everyone, or none at all. Nothing
 * outside that namespace changes; the files live in the test's DIR.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * The prefix of a command that runs SCRIPT (shell, as root) in a mount namespace of the command
 * only, then the command with the PATH it was given; the tools by absolute path whatever that is.
 */
export const privateMounts = (script: string): string[] =>
  ['/usr/bin/unshare', '-m', '--propagation', 'private', '/bin/sh', '-c', `P=$PATH && export PATH=/usr/sbin:/usr/bin:/sbin:/bin && ${script} && export PATH="$P" && exec "$@"`, 'sh'];

/**
 * A NAME of root's own in DIR/bin that appends its arguments to DIR/proof and then runs REAL,
 * and the environment that puts it first in $PATH; ran() says what it was asked, or null when
 * it never ran.
 */
export function plantFirstInPath(dir: string, name: string, real: string): { env: Record<string, string>; ran(): string | null } {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const proof = join(dir, 'proof');
  writeFileSync(join(bin, name), `#!/bin/sh\necho "$*" >> ${proof}\nexec ${real} "$@"\n`);
  chmodSync(join(bin, name), 0o755);
  return {
    env: { PATH: `${bin}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}` },
    ran: () => (existsSync(proof) ? readFileSync(proof, 'utf8') : null),
  };
}

/** The prefix of a command that runs it with PROGRAM replaced by a copy (in DIR) writable by everyone. */
export function withOpenCopy(dir: string, program: string): string[] {
  const open = join(dir, `${basename(program)}-open`);
  copyFileSync(program, open);
  chmodSync(open, 0o777);
  return privateMounts(`mount --bind '${open}' '${program}'`);
}

/**
 * The prefix of a command that runs it without PROGRAM: its directory becomes an overlay (upper
 * and work directories in DIR) in which a whiteout hides it (overlayfs: a 0/0 character device).
 */
export function without(dir: string, program: string): string[] {
  const upper = join(dir, 'overlay-upper');
  const work = join(dir, 'overlay-work');
  const bin = dirname(program);
  return privateMounts(`mkdir -p '${upper}' '${work}' && mknod '${upper}/${basename(program)}' c 0 0 && ` +
    `mount -t overlay overlay -o 'lowerdir=${bin},upperdir=${upper},workdir=${work}' '${bin}'`);
}
