/**
 * Loads one of our native addons from native/<name>/build/Release. The path is taken relative
 * to this module, which sits one level below the package root both as compiled (dist/src/) and
 * when bundled into dist/src/cli.js, so the same path serves both.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export function loadAddon<T>(name: string, file: string): T {
  const path = fileURLToPath(new URL(`../../native/${name}/build/Release/${file}`, import.meta.url));
  try {
    return createRequire(import.meta.url)(path) as T;
  } catch (e) {
    throw new Error(`cannot load the ${name} addon at ${path} (build it: npm ci, or node-gyp rebuild -C native/${name}): ${(e as Error).message}`);
  }
}
