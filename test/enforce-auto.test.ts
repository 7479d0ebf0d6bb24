/**
 * --enforce by default (src/enforce/auto.ts): on where NetworkManager manages this network
 * namespace's ports, read from files only root can make, on a directory standing for /.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { decideEnforce, networkManagerEvidence, type HostPaths } from '../src/enforce/auto.js';

/** A fake / with what NetworkManager's package, systemctl enable / mask and its start leave. */
function host(t: TestContext, parts: { installed?: boolean; enabled?: boolean; masked?: 'etc' | 'run'; running?: boolean; netns?: readonly [string, string] | 'unreadable'; service?: boolean }): HostPaths {
  const root = mkdtempSync(join(tmpdir(), 'd1x-auto-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const put = (p: string, link?: string): void => {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    if (link === undefined) writeFileSync(join(root, p), ''); else symlinkSync(link, join(root, p));
  };
  if (parts.installed !== false) put('usr/sbin/NetworkManager');
  if (parts.enabled) put('etc/systemd/system/multi-user.target.wants/NetworkManager.service', '/lib/systemd/system/NetworkManager.service');
  if (parts.masked) put(`${parts.masked}/systemd/system/NetworkManager.service`, '/dev/null');
  if (parts.running) mkdirSync(join(root, 'run/NetworkManager'), { recursive: true });
  const [self, init] = parts.netns === 'unreadable' ? [undefined, undefined] : parts.netns ?? ['net:[1]', 'net:[1]'];
  if (self !== undefined) put('ns/self', self);
  if (init !== undefined) put('ns/init', init);
  return { root, selfNetns: join(root, 'ns/self'), initNetns: join(root, 'ns/init'), service: parts.service ?? false };
}

test('--enforce and --no-enforce decide by themselves, whatever the host', (t) => {
  const nm = host(t, { enabled: true, running: true });
  assert.deepEqual(decideEnforce('on', nm), { enforce: true, reason: '--enforce given', auto: false });
  assert.deepEqual(decideEnforce('off', nm), { enforce: false, reason: '--no-enforce given', auto: false });
  assert.equal(decideEnforce('on', host(t, { installed: false })).enforce, true);
});

test('auto: on where NetworkManager is enabled or has run since boot, in PID 1\'s network namespace', (t) => {
  const enabled = decideEnforce('auto', host(t, { enabled: true }));
  assert.equal(enabled.enforce, true);
  assert.equal(enabled.auto, true);
  assert.match(enabled.reason, /^on by default: NetworkManager is enabled here \(\/etc\/systemd\/system\/multi-user\.target\.wants\/NetworkManager\.service\).*--no-enforce turns it off/);
  assert.match(decideEnforce('auto', host(t, { running: true })).reason, /NetworkManager runs here \(\/run\/NetworkManager\)/);
  // The unit's sandbox hides /proc/1/ns: a service shares PID 1's namespace unless told otherwise.
  assert.equal(decideEnforce('auto', host(t, { enabled: true, netns: 'unreadable', service: true })).enforce, true);
});

test('auto: off where NetworkManager is not installed, masked, neither enabled nor running, or in another network namespace', (t) => {
  for (const [what, parts] of [
    ['not installed', { installed: false, enabled: true, running: true }],
    ['masked in /etc', { enabled: true, masked: 'etc' }],
    ['masked in /run (as a lab masks it)', { enabled: true, running: true, masked: 'run' }],
    ['installed only', {}],
    ['another network namespace', { enabled: true, running: true, netns: ['net:[2]', 'net:[1]'], service: true }],
    ['a namespace it cannot compare, not a service', { enabled: true, running: true, netns: 'unreadable' }],
  ] as const) {
    const paths = host(t, parts);
    assert.equal(networkManagerEvidence(paths), null, what);
    const d = decideEnforce('auto', paths);
    assert.equal(d.enforce, false, what);
    assert.match(d.reason, /^off by default/);
  }
});
