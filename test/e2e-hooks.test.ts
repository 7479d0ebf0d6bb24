/**
 * End to end, --hook-dir: the hooks hear every open and close of the port, after the kernel
 * shows the new state, with the cause of each close, and `open` again when the switch
 * re-authenticates a port that stays open.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { needsRoot } from './lab/netns.js';
import { Lab } from './lab/lab.js';
import { is } from './lab/link-watch.js';
import { labDir } from './lab/peer-process.js';
import type { LogLine } from './lab/dot1x-daemon.js';

test('hooks: open after the kernel shows UP, open again on a re-authentication, close with its cause after the kernel shows it', async (t) => {
  if (!needsRoot(t)) return;
  const dir = labDir('hookdir', t);
  const out = join(dir, 'events');
  const hook = join(dir, '50-record');
  // What the kernel shows when the hook runs, read from sysfs in the daemon's namespace.
  writeFileSync(hook, `#!/bin/sh\necho "$1 $2 cause=$DOT1X_CAUSE index=$DOT1X_IFINDEX operstate=$(cat /sys/class/net/$1/operstate)" >> ${out}\n`);
  chmodSync(hook, 0o755);
  const lab = await Lab.create({ t, prefix: 'ehk', daemonArgs: ['--hook-dir', dir] });
  const d = lab.daemon;
  const ran = (event: string, cause: string, from: number): Promise<LogLine> => d.waitForLog(
    (l) => l.msg === 'hook finished' && l.event === event && l.cause === cause, { from, what: `hook for ${event} (${cause || 'no cause'})`, timeoutMs: 20_000 });

  await lab.watch.until(is.open(), 'UP', { timeoutMs: 20_000 });
  await ran('open', '', 0);

  let m = d.mark();
  await lab.forceReauth();
  await ran('open', 'reauthenticated', m);

  m = d.mark();
  await lab.pullCable();
  await ran('close', 'carrier-lost', m);
  m = d.mark();
  await lab.returnCable();
  await ran('open', '', m);

  m = d.mark();
  await lab.setSupplicantPassword('wrong now');
  await lab.forceReauth();
  const closed = await ran('close', 'credentials-rejected', m);
  assert.equal(closed.status, 0);

  const index = lab.watch.current!.index;
  assert.deepEqual(readFileSync(out, 'utf8').trim().split('\n'), [
    `${lab.ifname} open cause= index=${index} operstate=up`,
    `${lab.ifname} open cause=reauthenticated index=${index} operstate=up`,
    `${lab.ifname} close cause=carrier-lost index=${index} operstate=down`,
    `${lab.ifname} open cause= index=${index} operstate=up`,
    `${lab.ifname} close cause=credentials-rejected index=${index} operstate=dormant`,
  ]);
});
