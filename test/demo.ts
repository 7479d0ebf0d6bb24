/**
 * `npm run demo`: the whole product on this machine's kernel, in two throw-away network
 * namespaces. A switch (hostapd, 802.1X authenticator) and a host (wpa_supplicant) joined by a
 * virtual cable; dot1x-operstate gates the host's port. The demo pulls the cable, breaks and
 * fixes the switch's credentials, stops the daemon, and prints what the kernel reported, with
 * timings. Everything it made is removed before it exits.
 */
import { existsSync } from 'node:fs';
import { haveProgram } from './lab/netns.js';
import { Lab } from './lab/lab.js';
import { describe as describeLink, is, type TimelineEntry } from './lab/link-watch.js';
import type { LogLine } from './lab/dot1x-daemon.js';

const REQUIRED: Array<{ program: string; pkg: string }> = [
  { program: 'hostapd', pkg: 'hostapd' },
  { program: 'hostapd_cli', pkg: 'hostapd' },
  { program: 'wpa_supplicant', pkg: 'wpasupplicant' },
  { program: 'wpa_cli', pkg: 'wpasupplicant' },
  { program: 'ip', pkg: 'iproute2' },
];

/** What is missing, in words a person can act on; empty when the demo can run. */
function missingPrerequisites(): string[] {
  const problems: string[] = [];
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    problems.push('root: the demo creates network namespaces and runs hostapd and wpa_supplicant; run it as root (sudo npm run demo, or sudo bash .ci/run demo)');
  }
  const missing = REQUIRED.filter((r) => !haveProgram(r.program));
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map((m) => m.pkg))];
    problems.push(`programs not found: ${missing.map((m) => m.program).join(', ')}; install them with: apt-get install ${pkgs.join(' ')}`);
  }
  return problems;
}

/**
 * One line of the printed timeline. The daemon stamps its lines with its own clock in whole
 * milliseconds, so rows within the same millisecond are put in causal order by `rank`: an
 * authentication result comes before the kernel state it leads to, a reaction to carrier after
 * the kernel state it reacts to.
 */
interface Row { atMs: number; rank: number; text: string }

function linkRow(e: TimelineEntry & { kind: 'link' }): string {
  const r = e.record;
  const carrier = r.lowerUp ? 'carrier' : 'no carrier';
  return `kernel: ${r.operstate.padEnd(8)} ${r.running ? 'RUNNING    ' : 'not RUNNING'}  linkmode ${r.linkmode ?? '?'}  (${carrier})`;
}

function daemonRow(l: LogLine): string | null {
  if (l.msg === 'authentication finished') {
    return l.authorized === true
      ? `daemon: authentication #${String(l.attempt)} succeeded`
      : `daemon: authentication #${String(l.attempt)} failed: ${String(l.cause)}`;
  }
  if (l.msg === 'flow restarted') {
    if (l.reason === 'carrier-down') return 'daemon: carrier lost: port closed until it returns';
    if (l.reason === 'carrier-up') return 'daemon: carrier back: authenticating afresh';
    if (l.reason === 'bounce') return 'daemon: carrier bounced (counters rose): authenticating afresh';
    return `daemon: flow restarted (${String(l.reason)})`;
  }
  if (l.msg === 'link restored') return 'daemon: link restored (linkmode 0, UP)';
  if (l.msg === 'starting') return 'daemon: started';
  if (l.msg === 'stopped') return 'daemon: stopped';
  return null;
}

/** The link timeline (kernel events and the demo's notes) merged with the daemon's key log lines. */
function timeline(lab: Lab, wallEpochMs: number): string {
  const rows: Row[] = [];
  let lastLink = '';
  for (const e of lab.watch.timeline) {
    if (e.kind === 'note') rows.push({ atMs: e.atMs, rank: 1, text: `>> ${e.note}` });
    else if (e.kind === 'link') {
      const text = linkRow(e);
      // Duplicate notifications are normal (docs/kernel-contract.md#notifications); show changes only.
      if (text !== lastLink) rows.push({ atMs: e.atMs, rank: 1, text });
      lastLink = text;
    } else if (e.kind === 'removed') rows.push({ atMs: e.atMs, rank: 1, text: 'kernel: interface removed' });
  }
  for (const l of lab.daemon.logs) {
    const text = daemonRow(l);
    if (text !== null) rows.push({ atMs: Math.max(0, l.time - wallEpochMs), rank: l.msg === 'authentication finished' ? 0 : 2, text });
  }
  rows.sort((a, b) => a.atMs - b.atMs || a.rank - b.rank);
  return rows.map((r) => `${String(r.atMs).padStart(7)} ms  ${r.text}`).join('\n');
}

function say(text: string): void {
  process.stdout.write(`${text}\n`);
}

async function demo(lab: Lab): Promise<void> {
  const w = lab.watch;
  say(`Lab: switch namespace ${lab.sw.name} (${lab.swIfname}, hostapd), host namespace ${lab.host.name} (${lab.ifname}, wpa_supplicant, dot1x-operstate).`);

  say('1. dot1x-operstate starts: the port is DORMANT until the switch authorizes it, then UP.');
  await w.until(is.open(), 'the port to open', { timeoutMs: 20_000 });

  say('2. The cable is pulled, then returned: DOWN, then DORMANT until a fresh authentication, then UP.');
  const pulled = w.timeline.length;
  await lab.pullCable();
  await w.until(is.noCarrier(), 'carrier loss', { since: pulled, timeoutMs: 5000 });
  const back = w.timeline.length;
  await lab.returnCable();
  await w.until(is.open(), 'the port to open again', { since: back, timeoutMs: 20_000 });

  say("3. The switch's user file gets a different password and the host is asked to re-authenticate (SIGHUP): the port closes.");
  await lab.breakCredentials();
  const hup = lab.note('SIGHUP to dot1x-operstate (re-authenticate now)');
  const fromLog = lab.daemon.mark();
  lab.daemon.signal('SIGHUP');
  await w.until(is.gated(), 'the port to close', { since: hup, timeoutMs: 20_000 });
  await lab.awaitAuthResult((l) => l.authorized === false, 'a rejected attempt', { from: fromLog, timeoutMs: 20_000 });

  say('4. The user file is fixed on the switch: the port opens again, nothing restarted.');
  const fixed = w.timeline.length;
  await lab.fixCredentials();
  await w.until(is.open(), 'the port to open after the fix', { since: fixed, timeoutMs: 30_000 });

  say('5. dot1x-operstate is stopped (SIGTERM): it leaves the port as it found it, linkmode 0 and UP.');
  const stop = w.timeline.length;
  const exit = await lab.stopDaemon('SIGTERM');
  await w.until(is.restored(), 'linkmode 0 and UP', { since: stop, timeoutMs: 5000 });
  say(`   dot1x-operstate exited with status ${String(exit.code)}; the link: ${describeLink(w.current)}`);
}

async function main(): Promise<number> {
  // Debian puts hostapd and wpa_supplicant in /usr/sbin, which a non-login sudo may leave out.
  process.env.PATH = `${process.env.PATH ?? ''}:/usr/sbin:/sbin`;
  const problems = missingPrerequisites();
  if (problems.length > 0) {
    process.stderr.write(`dot1x-operstate demo cannot run:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
    return 1;
  }

  const lab = await Lab.create({ prefix: 'demo' });
  const wallEpochMs = Date.now() - lab.now();
  const made = { namespaces: [lab.sw.name, lab.host.name], dirs: [lab.supplicant.dir, lab.runDir, lab.switch?.dir ?? ''] };
  let interrupted = false;
  const onSignal = (): void => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write('\ninterrupted: removing the lab\n');
    void lab.close().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let status = 0;
  try {
    await demo(lab);
  } catch (e) {
    process.stderr.write(`demo failed: ${(e as Error).message}\n`);
    if (lab.daemon.stderr) process.stderr.write(`dot1x-operstate stderr: ${lab.daemon.stderr}\n`);
    status = 1;
  }
  say('\nTimeline of the host port (ms since the lab was built):');
  say(timeline(lab, wallEpochMs));
  await lab.close();

  const { execFileSync } = await import('node:child_process');
  const namespaces = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  const leftNs = made.namespaces.filter((n) => namespaces.includes(n));
  const leftDirs = made.dirs.filter((d) => d !== '' && existsSync(d));
  if (leftNs.length > 0 || leftDirs.length > 0) {
    process.stderr.write(`cleanup incomplete: namespaces ${leftNs.join(', ') || 'none'}, dirs ${leftDirs.join(', ') || 'none'}\n`);
    return 1;
  }
  say('\nCleaned up: the namespaces, the processes in them and the temporary files are gone.');
  return status;
}

main().then((code) => process.exit(code), (e: unknown) => {
  process.stderr.write(`demo failed: ${(e as Error).message}\n`);
  process.exit(1);
});
