/**
 * SIGTERM and SIGINT from every state of the PAE restore the link: linkmode 0 and operstate UP,
 * or, without carrier, linkmode 0 so that the kernel itself computes UP when carrier returns.
 * The exec authenticator stands in for the backend: a script that authorizes, rejects or hangs.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { needsRoot } from './lab/netns.js';
import { createPort, type Port } from './lab/cli-port.js';
import { LinkWatch, is } from './lab/link-watch.js';
import { DaemonProcess } from './lab/dot1x-daemon.js';

type Scenario = 'disconnected' | 'authenticating' | 'authorized' | 'held';

interface Started { port: Port; daemon: DaemonProcess; watch: LinkWatch; carrier: boolean }

/** Start a daemon on a fresh port and bring it to SCENARIO, with the kernel showing the matching state. */
async function startIn(t: TestContext, scenario: Scenario): Promise<Started> {
  const port = await createPort(t, 'sig');
  const watch = await LinkWatch.open(port.host, 'eth0', { t });
  const scripts = {
    disconnected: port.script('ok.sh', 'exit 0'),
    authorized: port.script('ok.sh', 'exit 0'),
    // Hangs until the daemon aborts it (SIGTERM to its process group).
    authenticating: port.script('hang.sh', 'exec sleep 60'),
    held: port.script('reject.sh', 'exit 1'),
  };
  if (scenario === 'disconnected') {
    await port.pullCable();
    await watch.until(is.noCarrier(), 'no carrier before the start');
  }
  // A long backoff keeps the daemon in held while the signal arrives.
  const extra = scenario === 'held' ? ['--retry-min', '30', '--retry-max', '30'] : [];
  const daemon = DaemonProcess.start(port.host, port.execArgs(scripts[scenario], extra), { t });
  switch (scenario) {
    case 'disconnected':
      await daemon.waitForState('eth0', 'disconnected');
      await watch.until(is.linkmode(1), 'linkmode 1 (supplicant mode) without carrier');
      break;
    case 'authenticating':
      await daemon.waitForState('eth0', /^authenticating/);
      await watch.until(is.gated(), 'the gate closed (DORMANT, linkmode 1)');
      break;
    case 'authorized':
      await daemon.waitForState('eth0', 'authorized.steady');
      await watch.until(is.open(), 'the gate open (UP, linkmode 1)');
      break;
    case 'held':
      await daemon.waitForState('eth0', 'held');
      await watch.until(is.gated(), 'the gate closed (DORMANT, linkmode 1)');
      break;
  }
  return { port, daemon, watch, carrier: scenario !== 'disconnected' };
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  for (const scenario of ['disconnected', 'authenticating', 'authorized', 'held'] as const) {
    test(`${signal} in ${scenario} restores the link and exits 0`, async (t) => {
      if (!needsRoot(t)) return;
      const { port, daemon, watch, carrier } = await startIn(t, scenario);
      daemon.signal(signal);
      const exit = await daemon.waitForExit({ timeoutMs: 10_000 });
      assert.equal(exit.code, 0, `exit ${exit.code} ${exit.signal}; stderr: ${exit.stderr}`);
      assert.equal(exit.stderr, '', 'a clean stop prints nothing on stderr');
      assert.doesNotMatch(exit.stdout, /\n\s+at /);
      await daemon.waitForLog((l) => l.msg === 'stopped' && l.signal === signal, { what: 'the stopped line' });

      const after = await port.link();
      assert.equal(after.linkmode, 0, 'linkmode back to 0 (default)');
      if (carrier) {
        assert.equal(after.operstate, 'UP');
        assert.ok(after.running, 'IFF_RUNNING');
      } else {
        assert.equal(after.operstate, 'DOWN', 'no carrier: the kernel says DOWN');
        // With linkmode 0 the kernel computes UP on its own when carrier returns.
        await port.returnCable();
        await watch.until(is.restored(), 'UP by the kernel alone after carrier returned');
      }
      // Nothing left behind: no authenticator program, no status socket.
      const pids = execFileSync('ip', ['netns', 'pids', port.host.name], { encoding: 'utf8' }).trim();
      assert.equal(pids, '', `processes left in the namespace: ${pids}`);
      assert.equal(execFileSync('ls', ['-A', port.runDir], { encoding: 'utf8' }).trim(), '', 'the status socket was removed');
    });
  }
}

test('SIGTERM while the daemon is still starting: exit 0, the link never touched', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'early');
  const watch = await LinkWatch.open(port.host, 'eth0', { t });
  const from = watch.mark('daemon starting');
  // A module that takes its time to load keeps the daemon in its start-up.
  const modulePath = `${port.dir}/slow.mjs`;
  writeFileSync(modulePath, [
    'await new Promise((resolve) => setTimeout(resolve, 1500));',
    "export default { name: 'slow', async authenticate() { return { authorized: true }; } };",
    '',
  ].join('\n'));
  const daemon = DaemonProcess.start(port.host, ['eth0', '--auth', 'module', '--module', modulePath, '--run-dir', port.runDir, '--log-level', 'debug'], { t });
  await daemon.waitForLog((l) => l.msg === 'preparing', { what: 'the preparing line' });
  daemon.signal('SIGTERM');
  const exit = await daemon.waitForExit();
  assert.equal(exit.code, 0, exit.stderr);
  assert.equal(exit.stderr, '');
  assert.ok(!daemon.logs.some((l) => l.msg === 'state'), 'a machine started after SIGTERM');
  const after = await port.link();
  assert.equal(after.linkmode, 0);
  assert.equal(after.operstate, 'UP');
  assert.equal(watch.findSince(from, (r) => r.linkmode === 1 || r.operstate !== 'UP'), undefined, 'the link changed');
});
