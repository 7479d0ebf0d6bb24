/**
 * The directory of our package.json, found by looking upward from this module: the clone as
 * compiled (dist/src/os/ is three levels below it), the bundle's (dist/src/cli.bundle.cjs), or
 * the Debian package's /usr/lib/dot1x-operstate (tools/deb.mjs writes a package.json there).
 * The native addons (native/NAME/build/Release) and the version are found from it, so no
 * module has to know how deep it sits.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PackageRoot {
  dir: string;
  version: string;
}

let cached: PackageRoot | null | undefined;

/** Our package's directory and version; null when no package.json of ours is above this module. */
export function packageRoot(): PackageRoot | null {
  if (cached !== undefined) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'dot1x-operstate' && typeof pkg.version === 'string') return (cached = { dir, version: pkg.version });
    } catch { /* none here: look further up */ }
    const up = dirname(dir);
    if (up === dir) return (cached = null);
    dir = up;
  }
}
