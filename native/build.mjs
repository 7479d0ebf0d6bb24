// Builds every addon under native/ from source with node-gyp (each binding.gyp includes
// native/core/core.gypi; npm puts its bundled node-gyp on PATH for lifecycle scripts). No download: when npm names no nodedir, the headers that ship with this
// Node (<prefix>/include/node, e.g. Debian's /usr/include/node) are used, so the build works offline.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const extra = [];
if (!process.env.npm_config_nodedir) {
  const prefix = resolve(dirname(process.execPath), '..');
  if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) extra.push(`--nodedir=${prefix}`);
}
for (const addon of ['netlink', 'unix-dgram', 'posix']) {
  const r = spawnSync('node-gyp', ['rebuild', '-C', join(here, addon), ...extra], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`native/build.mjs: building native/${addon} failed` +
      (r.error ? ` (${r.error.message}; is node-gyp on PATH? run through npm)` : '') +
      '; it needs make, g++, python3 and Node\'s headers');
    process.exit(1);
  }
}
