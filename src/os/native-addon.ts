/**
 * Loads one of our native addons from native/<name>/build/Release, and turns what they throw for
 * a failed system call into an OsError. The path is taken from our package's directory
 * (src/os/package-root.ts), which serves the compiled tree, the bundle and the Debian package alike.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { OsError } from '../cli/errors.js';
import { packageRoot } from './package-root.js';

export function loadAddon<T>(name: string, file: string): T {
  const root = packageRoot();
  if (root === null) throw new Error(`cannot load the ${name} addon: no package.json of dot1x-operstate above ${import.meta.url}`);
  const path = join(root.dir, 'native', name, 'build', 'Release', file);
  try {
    return createRequire(import.meta.url)(path) as T;
  } catch (e) {
    throw new Error(`cannot load the ${name} addon at ${path} (build it: npm ci, or node-gyp rebuild -C native/${name}): ${(e as Error).message}`);
  }
}

/**
 * What an addon throws for a failed system call (native/core/errno_error.h): the errno and the
 * call, no words.
 */
interface NativeErrno extends Error {
  errno: number;
  syscall: string;
}

function isNativeErrno(e: unknown): e is NativeErrno {
  return e instanceof Error && !(e instanceof OsError) && typeof (e as NativeErrno).errno === 'number' &&
    typeof (e as NativeErrno).syscall === 'string';
}

/**
 * Runs one native call; a failed system call becomes an OsError that says which OPERATION (on
 * TARGET) failed. Every call into an addon that can fail goes through here, so the wording of
 * every message lives in TypeScript.
 */
export function osCall<T>(operation: string, target: string | undefined, call: () => T): T {
  try {
    return call();
  } catch (e) {
    if (isNativeErrno(e)) throw new OsError(e.errno, e.syscall, operation, target);
    throw e;
  }
}
