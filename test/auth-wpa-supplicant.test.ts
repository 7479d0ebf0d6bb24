// The wpa_supplicant backend (src/auth/wpa-supplicant.ts) against real peers: hostapd
// (driver=wired, internal EAP server) as the switch in one namespace, `wpa_supplicant -D wired`
// on the host end in another; at the end, its pure helpers (start commands, --wpa-ctrl paths).
import { test, type TestContext } from 'node:test';
import { getEventListeners } from 'node:events';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { haveProgram, needsRoot } from './lab/netns.js';
import { startSwitch, type EapUser, type Switch } from './lab/hostapd.js';
import { createSupplicant, type Supplicant, type SupplicantOptions } from './lab/wpa-supplicant.js';
import { makeCerts } from './lab/certs.js';
import { labDir } from './lab/peer-process.js';
import { authenticate, captureLogger, linkLab, port, ReportLog, request, timerCount, withTimeout, type LinkLab } from './lab/auth-lab.js';
import { ExchangeHold, pollUntil } from './lab/exchange-hold.js';
import { WpaSupplicantAuthenticator, ctrlSocketPath, startCommands } from '../src/auth/wpa-supplicant.js';
import { createAuthenticator } from '../src/auth/index.js';
import { WpaCtrl } from '../src/wpa/ctrl.js';
import type { AuthOutcome } from '../src/auth/authenticator.js';

const PASSWORD = 'lab-secret-7f3a';
const ALICE: EapUser = { identity: 'alice', method: 'MD5', password: PASSWORD };

interface Setup {
  lab: LinkLab;
  sw: Switch | undefined;
  supp: Supplicant;
  auth: WpaSupplicantAuthenticator;
  log: ReturnType<typeof captureLogger>;
  /** Asserts nothing is left: no client socket dir, no timer; closes the authenticator. */
  finish(): Promise<void>;
}

async function setup(t: TestContext, o: {
  users?: EapUser[];
  switch?: 'normal' | 'none' | 'stall';
  supplicant?: Partial<SupplicantOptions>;
  startSupplicant?: boolean;
  certs?: Awaited<ReturnType<typeof makeCerts>>;
} = {}): Promise<Setup> {
  for (const p of ['hostapd', 'wpa_supplicant', 'hostapd_cli', 'wpa_cli']) assert.ok(haveProgram(p), `${p} is not installed`);
  const lab = await linkLab(t);
  const mode = o.switch ?? 'normal';
  const sw = mode === 'none' ? undefined : await startSwitch(lab.sw, {
    ifname: lab.swIf, users: o.users ?? [ALICE], certs: o.certs, stallAfterIdentity: mode === 'stall',
  }, t);
  const supp = createSupplicant(lab.host, {
    ifname: lab.hostIf, eap: 'MD5', identity: 'alice', password: PASSWORD, certs: o.certs, ...o.supplicant,
  }, t);
  if (o.startSupplicant !== false) await supp.start();
  const clientBase = labDir('wpaclient', t);
  const log = captureLogger();
  const timersBefore = timerCount();
  const auth = new WpaSupplicantAuthenticator({
    ctrl: supp.ctrlDir, logger: log, clientDirBase: clientBase,
    backoffMinMs: 100, backoffMaxMs: 400, healthIntervalMs: 300, requestTimeoutMs: 2000,
  });
  let closed = false;
  t.after(async () => { if (!closed) await auth.close(); });
  return {
    lab, sw, supp, auth, log,
    async finish() {
      closed = true;
      await auth.close();
      assert.deepEqual(readdirSync(clientBase), [], 'client socket directories left behind');
      assert.ok(timerCount() <= timersBefore, `timers left: ${timerCount()} > ${timersBefore}`);
      assert.ok(!log.text().includes(PASSWORD), 'a password reached the log');
    },
  };
}

function assertAuthorized(o: AuthOutcome, method?: string): void {
  assert.equal(o.authorized, true, `not authorized: ${JSON.stringify(o)}`);
  if (method) assert.equal(o.details?.method, method);
}

function assertCause(o: AuthOutcome, cause: string): void {
  assert.equal(o.authorized, false, `expected ${cause}, got authorized`);
  if (!o.authorized) assert.equal(o.cause, cause, `expected ${cause}: ${JSON.stringify(o)}`);
}

test('EAP-MD5 success; a second call re-authenticates (PAE AUTHENTICATED -> REAUTHENTICATE)', async (t) => {
  if (!needsRoot(t)) return;
  const s = await setup(t);
  assertAuthorized(await authenticate(s.auth, request(s.lab)), 'MD5');
  assertAuthorized(await authenticate(s.auth, request(s.lab, 1, 'reauthenticate')), 'MD5');
  const starts = s.log.entries.filter((e) => e.msg === 'starting EAP exchange').map((e) => e.obj as { pae: string; commands: string[] });
  assert.equal(starts.length, 2, JSON.stringify(starts));
  // The first start follows the PAE state wpa_supplicant happened to be in (startCommands);
  // the second finds it AUTHENTICATED.
  const firstPae = (starts[0]!.pae === 'absent' ? undefined : starts[0]!.pae) as Parameters<typeof startCommands>[0];
  assert.deepEqual(starts[0]!.commands, startCommands(firstPae), JSON.stringify(starts[0]));
  assert.equal(starts[0]!.commands.at(-1), 'LOGON', 'a first start sends EAPOL-Start at once');
  assert.deepEqual(starts[1], { ...starts[1], pae: 'AUTHENTICATED', commands: ['REAUTHENTICATE'] });
  await s.finish();
});

test('--wpa-ctrl given as a symbolic link to the control directory: accepted at start and used to connect', async (t) => {
  if (!needsRoot(t)) return;
  const s = await setup(t);
  const link = join(labDir('wpalink', t), 'ctrl-link');
  symlinkSync(s.supp.ctrlDir, link);
  const clientBase = labDir('wpaclient', t);
  const auth = await createAuthenticator({ kind: 'wpa-supplicant', ctrl: link, clientDirBase: clientBase, requestTimeoutMs: 2000 });
  t.after(() => auth.close?.());
  assertAuthorized(await authenticate(auth, request(s.lab)), 'MD5');
  await auth.close?.();
  await s.finish();
});

test('EAP success taken at once where the network makes it an authorized port (eapol_flags 0), STATUS agreeing after', async (t) => {
  if (!needsRoot(t)) return;
  const s = await setup(t);
  const reports = new ReportLog(s.auth, port(s.lab));
  const o = await authenticate(s.auth, request(s.lab));
  assertAuthorized(o);
  assert.equal(o.details?.verdict, 'eap-success');
  assert.match(await s.supp.cli('STATUS'), /suppPortStatus=Authorized/);
  await reports.next('eap-started');
  assert.deepEqual(reports.all.filter((r) => r.type === 'reauthenticated'), [], 'the confirmation agreed: no report');
  assert.equal(s.log.entries.filter((e) => e.level === 'warn').length, 0, s.log.text());
  reports.stop();
  await s.finish();
});

test('eapol_flags other than 0: the success waits for STATUS (the conservative path), which decides', async (t) => {
  if (!needsRoot(t)) return;
  const s = await setup(t, { supplicant: { eapolFlags: 3 } });
  const o = await authenticate(s.auth, request(s.lab), 5_000);
  assertAuthorized(o);
  assert.equal(o.details?.verdict, undefined, 'not taken from the EAP event');
  assert.equal(o.details?.pae, 'AUTHENTICATED', 'read from STATUS');
  await s.finish();
});

test('after close() nothing keeps the process alive: a child that authenticates and closes exits by itself', async (t) => {
  if (!needsRoot(t)) return;
  const s = await setup(t);
  await s.finish(); // this process's authenticator is not used here
  const index = fileURLToPath(new URL('../src/auth/index.js', import.meta.url));
  const script = `import { createAuthenticator } from ${JSON.stringify(index)};
    const auth = await createAuthenticator({ kind: 'wpa-supplicant', ctrl: ${JSON.stringify(s.supp.ctrlDir)} });
    const stop = auth.watch(${JSON.stringify(port(s.lab))}, () => {});
    const o = await auth.authenticate(${JSON.stringify(request(s.lab))}, AbortSignal.timeout(10000));
    console.log(JSON.stringify(o));
    stop();
    await auth.close();`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.error, undefined, 'the child did not exit by itself: something was left open');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout.trim()).authorized, true, r.stdout);
});

test('PEAP/MSCHAPv2 and EAP-TLS success (certificates made at test time)', async (t) => {
  if (!needsRoot(t)) return;
  // A big server certificate: its CTRL-EVENT-EAP-PEER-CERT line is far longer than 4 KiB.
  const certs = await makeCerts(t, { clientIdentity: 'tls-client', serverAltNames: 700 });
  await t.test('PEAP', async (tt) => {
    const s = await setup(tt, {
      certs, users: [{ identity: 'bob', method: 'PEAP', password: PASSWORD }],
      supplicant: { eap: 'PEAP', identity: 'bob' },
    });
    assertAuthorized(await authenticate(s.auth, request(s.lab)), 'PEAP');
    await s.finish();
  });
  await t.test('TLS', async (tt) => {
    const s = await setup(tt, {
      certs, users: [{ identity: 'tls-client', method: 'TLS' }],
      supplicant: { eap: 'TLS', identity: 'tls-client', password: undefined },
    });
    let longest = 0;
    const spy = await WpaCtrl.open(s.supp.ctrlPath);
    tt.after(() => spy.close());
    spy.on('event', (ev) => { if (ev.name === 'CTRL-EVENT-EAP-PEER-CERT') longest = Math.max(longest, ev.text.length); });
    assertAuthorized(await authenticate(s.auth, request(s.lab)), 'TLS');
    assert.ok(longest > 16 * 1024, `the peer-certificate event line was only ${longest} bytes`);
    spy.close();
    await s.finish();
  });
});

test('wrong password: credentials-rejected, and a retry works from HELD (REASSOCIATE + LOGON)', async (t) => {
  if (!needsRoot(t)) return;
  const s = await setup(t, { supplicant: { password: 'not-the-password' } });
  assertCause(await authenticate(s.auth, request(s.lab)), 'credentials-rejected');
  const st = await s.supp.cli('STATUS');
  assert.match(st, /Supplicant PAE state=HELD/, 'the PAE should now sit in HELD');
  // hostapd ignores EAPOL-Start from a station for a while after a failure; let wpa_supplicant
  // repeat its EAPOL-Start every second (and not give up) so the retry gets through when the
  // switch listens again. Without REASSOCIATE the PAE would stay in HELD for 60 s and send none.
  await s.supp.cli('SET', 'EAPOL::startPeriod', '1');
  await s.supp.cli('SET', 'EAPOL::maxStart', '100');
  const t0 = Date.now();
  assertCause(await authenticate(s.auth, request(s.lab, 2, 'retry'), 20_000), 'credentials-rejected');
  assert.ok(Date.now() - t0 < 20_000);
  await s.finish();
});

test('no authenticator on the wire: abort gives no-authenticator, nothing left behind', async (t) => {
  if (!needsRoot(t)) return;
  const s = await setup(t, { switch: 'none' });
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 1500);
  const o = await s.auth.authenticate(request(s.lab), ac.signal);
  clearTimeout(timer);
  assertCause(o, 'no-authenticator');
  assert.equal(getEventListeners(ac.signal, 'abort').length, 0, 'abort listener left on the signal');
  await s.finish();
});

test('EAPOL-Start again from CONNECTING: the second call (LOGON) reaches a switch that came up after the first', async (t) => {
  if (!needsRoot(t)) return;
  const s = await setup(t, { switch: 'none' });
  const reports = new ReportLog(s.auth, port(s.lab));
  const first = await authenticate(s.auth, request(s.lab), 500);
  assertCause(first, 'no-authenticator');
  assert.match(await s.supp.cli('STATUS'), /Supplicant PAE state=CONNECTING/);
  await startSwitch(s.lab.sw, { ifname: s.lab.swIf, users: [ALICE] }, t);
  assertAuthorized(await authenticate(s.auth, { ...request(s.lab), start: 2 }, 5_000));
  await reports.next('eap-started');
  const starts = s.log.entries.filter((e) => e.msg === 'starting EAP exchange').map((e) => e.obj as { pae: string; commands: string[] });
  assert.deepEqual(starts.map((e) => e.commands), [['LOGON'], ['LOGON']]);
  assert.equal(starts[1]!.pae, 'CONNECTING', 'the second start was sent from CONNECTING');
  reports.stop();
  await s.finish();
});

test('abort during an exchange (EAP started, never finished): timeout', async (t) => {
  if (!needsRoot(t)) return;
  const s = await setup(t, { switch: 'stall' });
  // Watch the same wpa_supplicant with a second monitor and abort once EAP has started.
  const spy = await WpaCtrl.open(s.supp.ctrlPath);
  t.after(() => spy.close());
  const ac = new AbortController();
  let sawStarted = false;
  spy.on('event', (ev) => { if (ev.name === 'CTRL-EVENT-EAP-STARTED') { sawStarted = true; ac.abort(); } });
  const guard = setTimeout(() => ac.abort(), 10_000);
  const o = await s.auth.authenticate(request(s.lab), ac.signal);
  clearTimeout(guard);
  assert.ok(sawStarted, 'EAP never started: the stalled switch did not send Request/Identity');
  assertCause(o, 'timeout');
  assert.equal(getEventListeners(ac.signal, 'abort').length, 0, 'abort listener left on the signal');
  spy.close();
  await s.finish();
});

test('wpa_supplicant started late: backend-unavailable, then success with the same authenticator', async (t) => {
  if (!needsRoot(t)) return;
  const s = await setup(t, { startSupplicant: false });
  const reports = new ReportLog(s.auth, port(s.lab));
  const o = await authenticate(s.auth, request(s.lab));
  assertCause(o, 'backend-unavailable');
  await reports.next('backend-down');
  await s.supp.start();
  await reports.next('backend-up');
  assertAuthorized(await authenticate(s.auth, request(s.lab, 2, 'retry')), 'MD5');
  reports.stop();
  await s.finish();
});

test('wpa_supplicant killed and restarted, and stopped (TERMINATING) and restarted: down, up, success', async (t) => {
  if (!needsRoot(t)) return;
  const s = await setup(t);
  const reports = new ReportLog(s.auth, port(s.lab));
  assertAuthorized(await authenticate(s.auth, request(s.lab)));

  await s.supp.kill(); // no event, stale socket file: found by the health PING
  const down = await reports.next('backend-down');
  assert.equal(down.type, 'backend-down');
  assertCause(await authenticate(s.auth, request(s.lab, 2, 'retry')), 'backend-unavailable');
  await s.supp.start();
  await reports.next('backend-up');
  assertAuthorized(await authenticate(s.auth, request(s.lab, 3, 'retry')));

  await s.supp.stop(); // SIGTERM: CTRL-EVENT-TERMINATING
  const down2 = await reports.next('backend-down');
  assert.match(down2.type === 'backend-down' ? down2.message : '', /TERMINATING/);
  await s.supp.start();
  await reports.next('backend-up');
  assertAuthorized(await authenticate(s.auth, request(s.lab, 4, 'retry')));
  reports.stop();
  await s.finish();
});

test('switch-initiated re-authentication: success, then failure after the switch changes the password', async (t) => {
  if (!needsRoot(t)) return;
  const s = await setup(t);
  const reports = new ReportLog(s.auth, port(s.lab));
  assertAuthorized(await authenticate(s.auth, request(s.lab)));
  await reports.next('eap-started'); // our own exchange: the authenticator answered
  await s.sw!.forceReauth(s.lab.hostMac);
  await reports.next('eap-started'); // the switch's exchange: reported before its verdict
  const ok = await reports.next('reauthenticated');
  assert.ok(ok.type === 'reauthenticated' && ok.outcome.authorized, `re-authentication should succeed: ${JSON.stringify(ok)}`);

  // The reload makes hostapd forget the station; re-learning it makes hostapd authenticate it
  // at once, now against the changed password.
  await s.sw!.setUsers([{ ...ALICE, password: 'changed-on-the-switch' }]);
  await s.sw!.announceStation(s.lab.host, s.lab.hostIf, s.lab.hostMac);
  await reports.next('eap-started');
  const bad = await reports.next('reauthenticated');
  assert.ok(bad.type === 'reauthenticated' && !bad.outcome.authorized, `re-authentication should fail: ${JSON.stringify(bad)}`);
  if (bad.type === 'reauthenticated' && !bad.outcome.authorized) assert.equal(bad.outcome.cause, 'credentials-rejected');
  assert.match(await s.supp.cli('STATUS'), /suppPortStatus=Unauthorized/);
  reports.stop();
  await s.finish();
});

/**
 * Authorized; then the switch re-authenticates the port with wpa_supplicant's password wrong,
 * held before its verdict: wpa_supplicant has sent its last response and waits in
 * AUTHENTICATING, and the stopped switch holds it (lab/exchange-hold.ts).
 */
async function switchFailingAtVerdict(t: TestContext): Promise<{ s: Setup; reports: ReportLog; hold: ExchangeHold }> {
  const s = await setup(t);
  const reports = new ReportLog(s.auth, port(s.lab));
  assertAuthorized(await authenticate(s.auth, request(s.lab)));
  await s.supp.cli('SET_NETWORK', '0', 'password', '"not-the-password"');
  const [swLink] = await s.lab.sw.links(s.lab.swIf);
  const hold = new ExchangeHold({
    switch: { proc: s.sw!.daemon.proc, ifindex: Number(swLink?.ifindex) },
    supplicant: { proc: s.supp.daemon!.proc, ifindex: s.lab.hostIndex },
  }, t);
  await hold.toVerdict(() => s.sw!.forceReauth(s.lab.hostMac));
  return { s, reports, hold };
}

test('the switch\'s EAP-Failure, emitted before a re-authentication\'s barrier was answered, is reported, not dropped', async (t) => {
  if (!needsRoot(t)) return;
  const { s, reports, hold } = await switchFailingAtVerdict(t);
  await hold.verdictWaiting(); // the EAP-Failure waits in the stopped wpa_supplicant
  const ac = new AbortController();
  const reauth = s.auth.authenticate({ ...request(s.lab, 1, 'reauthenticate'), whileAuthorized: true }, ac.signal);
  // One turn of the loop: the barrier has gone out (behind the EAP-Failure, in wpa_supplicant).
  await new Promise((r) => setImmediate(r));
  hold.resume('supplicant');
  const failed = await reports.next('reauthenticated', 5_000);
  assert.ok(failed.type === 'reauthenticated' && !failed.outcome.authorized, JSON.stringify(failed));
  if (failed.type === 'reauthenticated' && !failed.outcome.authorized) assert.equal(failed.outcome.cause, 'credentials-rejected');
  ac.abort(); // what the machine does on that report
  assert.equal((await withTimeout(reauth, 5_000, 'the aborted re-authentication')).authorized, false);
  reports.stop();
  await s.finish();
});

test('a re-authentication while authorized joins the switch\'s exchange under way: its EAP-Failure is the outcome', async (t) => {
  if (!needsRoot(t)) return;
  const { s, reports, hold } = await switchFailingAtVerdict(t);
  const started = Date.now();
  const mark = s.log.entries.length;
  const reauth = authenticate(s.auth, { ...request(s.lab, 1, 'reauthenticate'), whileAuthorized: true }, 10_000);
  const ours = () => s.log.entries.slice(mark);
  await pollUntil(() => ours().some((e) => e.msg === 'joining the EAP exchange under way' || e.msg === 'starting EAP exchange'), 'the first command');
  const joined = ours().find((e) => e.msg === 'joining the EAP exchange under way');
  assert.deepEqual(joined?.obj, { ifname: s.lab.hostIf, attempt: 1, pae: 'AUTHENTICATING' }, s.log.text());
  hold.resume('switch');
  const o = await reauth;
  assertCause(o, 'credentials-rejected');
  assert.ok(Date.now() - started < 5_000, `the verdict took ${Date.now() - started} ms`);
  assert.deepEqual(reports.all.filter((r) => r.type === 'reauthenticated'), [], 'the verdict was the call\'s, not a report as well');
  reports.stop();
  await s.finish();
});

test('missing credentials: CTRL-REQ-PASSWORD gives credentials-missing, warned once, prompt never logged', async (t) => {
  if (!needsRoot(t)) return;
  const s = await setup(t, { supplicant: { password: undefined } });
  const reports = new ReportLog(s.auth, port(s.lab));
  const o1 = await authenticate(s.auth, request(s.lab));
  assertCause(o1, 'credentials-missing');
  assert.equal(o1.details?.field, 'PASSWORD');
  const o2 = await authenticate(s.auth, request(s.lab, 2, 'retry'));
  assertCause(o2, 'credentials-missing');
  const warns = s.log.entries.filter((e) => e.level === 'warn' && /CTRL-REQ-PASSWORD/.test(e.msg ?? ''));
  assert.equal(warns.length, 1, `warned ${warns.length} times:\n${s.log.text()}`);
  assert.ok(!/needed for/i.test(s.log.text()), 'the CTRL-REQ prompt text reached the log');
  assert.deepEqual(reports.all.filter((r) => r.type === 'reauthenticated'), [], 'a credential request is not a re-authentication');
  reports.stop();
  await s.finish();
});

test('createAuthenticator: --wpa-ctrl as the socket path itself; a regular file is a UsageError', async (t) => {
  if (!needsRoot(t)) return;
  const s = await setup(t);
  const bySocket = await createAuthenticator({ kind: 'wpa-supplicant', ctrl: s.supp.ctrlPath, requestTimeoutMs: 2000 });
  t.after(() => bySocket.close?.());
  assertAuthorized(await withTimeout(authenticate(bySocket, request(s.lab)), 15_000, 'authenticate'));
  await bySocket.close?.();
  await assert.rejects(createAuthenticator({ kind: 'wpa-supplicant', ctrl: s.supp.confPath }),
    (e: Error & { code?: string }) => e.name === 'UsageError' && e.code === 'wpa-ctrl-invalid');
  await s.finish();
});

test('start commands per PAE state: HELD needs REASSOCIATE before LOGON', () => {
  assert.deepEqual(startCommands('AUTHENTICATED'), ['REAUTHENTICATE']);
  assert.deepEqual(startCommands('HELD'), ['REASSOCIATE', 'LOGON']);
  assert.deepEqual(startCommands('AUTHENTICATING'), ['REASSOCIATE', 'LOGON'], 'an exchange that may predate the carrier-up is restarted');
  assert.deepEqual(startCommands('RESTART'), ['REASSOCIATE', 'LOGON']);
  assert.deepEqual(startCommands('AUTHENTICATING', 1, true), [], 'while authorized, the exchange under way is joined');
  assert.deepEqual(startCommands('RESTART', 1, true), []);
  assert.deepEqual(startCommands('AUTHENTICATED', 1, true), ['REAUTHENTICATE']);
  assert.deepEqual(startCommands('HELD', 1, true), ['REASSOCIATE', 'LOGON']);
  assert.deepEqual(startCommands('CONNECTING'), ['REASSOCIATE', 'LOGON'], 'the first start resets wpa_supplicant\'s own startCount');
  assert.deepEqual(startCommands('CONNECTING', 2), ['LOGON'], 'a later start of the same attempt');
  assert.deepEqual(startCommands('DISCONNECTED'), ['LOGON']);
  assert.deepEqual(startCommands(undefined), ['LOGON']);
});

test('--wpa-ctrl resolution when the path does not exist yet', () => {
  assert.equal(ctrlSocketPath('/nonexistent/d1x/run', 'eth0'), '/nonexistent/d1x/run/eth0');
  assert.equal(ctrlSocketPath('/nonexistent/d1x/run/eth0', 'eth0'), '/nonexistent/d1x/run/eth0');
});
