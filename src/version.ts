/** The program's version, from the package.json of the tree this module runs from. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** Looks upward from this module for our package.json (dist/src/, or a bundle's directory). */
export function programVersion(): string {
  if (cached !== undefined) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'dot1x-operstate' && typeof pkg.version === 'string') return (cached = pkg.version);
    } catch { /* none here: look further up */ }
    const up = dirname(dir);
    if (up === dir) return (cached = 'unknown');
    dir = up;
  }
}
