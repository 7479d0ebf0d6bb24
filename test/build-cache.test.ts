/**
 * The built launcher and its code cache (tools/bundle.mjs): V8 takes a cache only from the
 * flags that made it, so the cache must be made with the flags of the launcher's shebang, or
 * every start compiles the whole CLI (test/bench/start-to-managed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const BUNDLE = fileURLToPath(new URL('../src/cli.bundle.cjs', import.meta.url));

test('the code cache is accepted under the flags of the launcher\'s shebang', () => {
  const shebang = readFileSync(CLI, 'utf8').split('\n', 1)[0]!;
  const m = /^#!\/usr\/bin\/env -S node( .*)?$/.exec(shebang);
  assert.ok(m, `the launcher starts node through env -S: ${shebang}`);
  const flags = m[1]?.trim().split(/\s+/) ?? [];
  const probe = `const fs=require('fs'),vm=require('vm'),{Module}=require('module');
const src=fs.readFileSync(${JSON.stringify(BUNDLE)},'utf8').replace(/^#!.*/,'');
const s=new vm.Script(Module.wrap(src),{filename:${JSON.stringify(BUNDLE)},cachedData:fs.readFileSync(${JSON.stringify(`${BUNDLE}.v8cache`)})});
process.stdout.write(String(s.cachedDataRejected));`;
  const r = spawnSync(process.execPath, [...flags, '-e', probe], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'false', `V8 rejected the code cache under ${flags.join(' ')}`);
  assert.equal(r.stderr, '', 'node says nothing on stderr under these flags');
});
