/**
 * Loads one of our native addons from native/<name>/build/Release, and turns what they throw for
 * a failed system call into an OsError. The path is taken relative to this module, which sits
 * one level below the package root both as compiled (dist/src/) and when bundled into
 * dist/src/cli.js, so the same path serves both.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { OsError } from './errors.js';

export function loadAddon<T>(name: string, file: string): T {
  const path = fileURLToPath(new URL(`../../native/${name}/build/Release/${file}`, import.meta.url));
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
