/**
 * The systemd template unit in examples/: systemd itself accepts it (`systemd-analyze verify`,
 * with the program path pointed at this build), it waits for the daemon's READY=1 and orders
 * networking after it, and the program path is the one the Debian package installs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { labDir } from './lab/peer-process.js';
import { CLI_PATH } from './lab/dot1x-daemon.js';

const execFileP = promisify(execFile);
const UNIT = fileURLToPath(new URL('../../examples/dot1x-operstate@.service', import.meta.url));
const INSTALLED_BIN = '/usr/bin/dot1x-operstate';

/** key -> every value it is given in the unit (comments and section headers left out). */
function directives(text: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m) map.set(m[1]!, [...(map.get(m[1]!) ?? []), m[2]!]);
  }
  return map;
}

test('the unit is Type=notify, ordered before networking, hardened, and runs the packaged path', () => {
  const unit = directives(readFileSync(UNIT, 'utf8'));
  assert.deepEqual(unit.get('Type'), ['notify']);
  assert.deepEqual(unit.get('NotifyAccess'), ['main']);
  assert.deepEqual(unit.get('Before'), ['network-pre.target']);
  assert.deepEqual(unit.get('Wants'), ['wpa_supplicant-wired@%i.service', 'network-pre.target']);
  // Nothing that stops the daemon with wpa_supplicant (docs/systemd.md): the port stays gated.
  assert.equal(unit.get('BindsTo'), undefined);
  assert.equal(unit.get('Requires'), undefined);
  assert.equal(unit.get('PartOf'), undefined);
  assert.match(unit.get('ExecStart')![0]!, new RegExp(`^${INSTALLED_BIN} %I `));
  // After a clean stop reset, after a crash close (tested under systemd: test/system-crash.test.ts).
  assert.match(unit.get('ExecStopPost')![0]!, new RegExp(`success:\\*\\) exec ${INSTALLED_BIN} reset .*\\*\\) exec ${INSTALLED_BIN} close`));
  assert.deepEqual([unit.get('StartLimitIntervalSec'), unit.get('StartLimitBurst')], [['60'], ['5']]);
  assert.deepEqual(unit.get('ProcSubset'), ['pid']);
  assert.deepEqual(unit.get('PrivateMounts'), ['yes']);
  assert.ok(unit.get('SystemCallFilter')?.includes('~@privileged @resources'));
});

test('systemd-analyze verify accepts the unit', async (t) => {
  const dir = labDir('unit', t);
  const text = readFileSync(UNIT, 'utf8').replaceAll(INSTALLED_BIN, CLI_PATH);
  writeFileSync(join(dir, 'dot1x-operstate@.service'), text);
  // verify runs man on Documentation='s man: page; this tree's page, where man looks (MANPATH).
  mkdirSync(join(dir, 'man/man8'), { recursive: true });
  copyFileSync(fileURLToPath(new URL('../../docs/dot1x-operstate.8', import.meta.url)), join(dir, 'man/man8/dot1x-operstate.8'));
  const r = await execFileP('systemd-analyze', ['verify', join(dir, 'dot1x-operstate@eth0.service')], { cwd: dir, timeout: 30_000, env: { ...process.env, MANPATH: join(dir, 'man') } })
    .then(({ stdout, stderr }) => ({ code: 0, stdout, stderr }), (err: { code?: number; stdout?: string; stderr?: string }) => ({ code: err.code, stdout: err.stdout ?? '', stderr: err.stderr ?? '' }));
  assert.equal(r.code, 0, r.stderr);
  // Unknown or misspelt directives are only warned about: none may be.
  assert.doesNotMatch(r.stderr, /dot1x-operstate@/, r.stderr);
});
