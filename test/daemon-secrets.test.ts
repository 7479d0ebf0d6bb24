/**
 * Secrets never reach the daemon's output, at the most verbose level: the password of the
 * wpa_supplicant configuration (real wpa_supplicant against real hostapd, through
 * authentication, re-authentication and failure; in JSON and in the journal format), a secret in
 * the exec program's environment, and in the TLS lab (RADIUS behind the switch) a private key's
 * passphrase and its bytes, also where the key sits in the certificate file the daemon reads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabCa } from './lab/certs.js';
import { labDir } from './lab/peer-process.js';
import { needsRoot } from './lab/netns.js';
import { Lab, DEFAULT_IDENTITY } from './lab/lab.js';
import { is } from './lab/link-watch.js';
import { createPort } from './lab/cli-port.js';
import { DaemonProcess, LEVEL, runCli, type LogLine } from './lab/dot1x-daemon.js';

function secret(label: string): string {
  return `${label}-${randomBytes(12).toString('hex')}`;
}

function assertAbsent(haystack: string, needle: string, where: string): void {
  assert.ok(!haystack.includes(needle), `the secret appeared in ${where}`);
}


/**
 * The SIGHUP exchange has finished successfully. Only that exchange leaves reauthenticating for
 * steady; an authFinished line would not do, since the line of the exchange before it may still
 * be on its way through the pipe (the daemon writes the netlink request before its log lines).
 */
const sighupExchangeDone = (l: LogLine): boolean =>
  l.msg === 'state' && l.previous === 'authorized.reauthenticating' && l.state === 'authorized.steady';

test('the wpa_supplicant password appears in no output at trace level', async (t) => {
  if (!needsRoot(t)) return;
  const password = secret('pw');
  const lab = await Lab.create({
    t, prefix: 'sec', password, withDaemon: false,
    users: [{ identity: DEFAULT_IDENTITY, method: 'MD5', password }],
  });
  const d = lab.startDaemon(['--log-level', 'trace']);
  await d.waitForState(lab.ifname, 'authorized.steady', { timeoutMs: 15_000 });
  await lab.watch.until(is.open(), 'the gate open');

  let mark = d.mark();
  d.signal('SIGHUP');
  await d.waitForLog(sighupExchangeDone, { from: mark, what: 're-authentication after SIGHUP', timeoutMs: 15_000 });

  mark = d.mark();
  await lab.forceReauth();
  await d.waitForLog((l) => l.event === 'reauthenticated' && l.authorized === true, { from: mark, what: 'the switch\'s re-authentication', timeoutMs: 15_000 });

  // A failure path too: the switch stops accepting the password. (Reloading hostapd's users
  // drops its stations, so the daemon is asked to re-authenticate rather than the switch.)
  mark = d.mark();
  await lab.breakCredentials();
  d.signal('SIGHUP');
  await d.waitForState(lab.ifname, 'held', { from: mark, timeoutMs: 15_000 });
  await lab.watch.until(is.gated(), 'the gate closed after the failure');

  const status = await lab.cli(['status', lab.ifname, '--json']);
  assert.equal(status.code, 0, status.stderr);
  const exit = await lab.stopDaemon('SIGTERM');
  assert.equal(exit.code, 0, exit.stderr);

  if (process.env.SHOW_DAEMON_LOG) process.stderr.write(exit.stdout);
  assert.ok(d.logs.some((l) => l.level === LEVEL.trace), 'no trace line: the test did not run at trace level');
  assert.ok(d.logs.some((l) => l.level === LEVEL.debug && l.component === 'auth'), 'no backend traffic was logged');
  assertAbsent(exit.stdout, password, 'stdout');
  assertAbsent(exit.stderr, password, 'stderr');
  assertAbsent(status.stdout + status.stderr, password, 'status output');
});

test('the wpa_supplicant password appears in no output at trace level, in the journal format', async (t) => {
  if (!needsRoot(t)) return;
  const password = secret('pw');
  const lab = await Lab.create({
    t, prefix: 'secj', password, withDaemon: false,
    users: [{ identity: DEFAULT_IDENTITY, method: 'MD5', password }],
  });
  const d = lab.startDaemon(['--log-level', 'trace', '--log-format', 'journal']);
  const ifname = lab.ifname;
  await d.waitForOutput(new RegExp(`^<6>${ifname}: state authorized\\.steady `), { what: 'authorized', timeoutMs: 15_000 });
  await lab.watch.until(is.open(), 'the gate open');

  let mark = d.outputMark();
  d.signal('SIGHUP');
  await d.waitForOutput(new RegExp(`^<6>${ifname}: state authorized\\.steady \\(after \\d+ ms in authorized\\.reauthenticating\\)`),
    { from: mark, what: 're-authentication after SIGHUP', timeoutMs: 15_000 });

  mark = d.outputMark();
  await lab.forceReauth();
  await d.waitForOutput(/switch re-authenticated the port event=reauthenticated authorized=true/, { from: mark, what: 'the switch\'s re-authentication', timeoutMs: 15_000 });

  mark = d.outputMark();
  await lab.breakCredentials();
  d.signal('SIGHUP');
  await d.waitForOutput(new RegExp(`^<4>${ifname}: authentication failed: credentials rejected by the switch`), { from: mark, what: 'the failure', timeoutMs: 15_000 });
  await lab.watch.until(is.gated(), 'the gate closed after the failure');

  const exit = await lab.stopDaemon('SIGTERM');
  assert.equal(exit.code, 0, exit.stderr);
  if (process.env.SHOW_DAEMON_LOG) process.stderr.write(exit.stdout);
  assert.equal(d.logs.length, 0, 'a JSON line in the journal format');
  assert.match(exit.stdout, /^<7>.* component=auth /m, 'no backend traffic was logged');
  assertAbsent(exit.stdout, password, 'stdout');
  assertAbsent(exit.stderr, password, 'stderr');
});

test('a secret in the exec environment appears in no output at trace level', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'esec');
  const token = secret('token');
  // Authorizes only with the right token, and talks on stdout/stderr like a real program would.
  // Of the daemon's environment only PATH, LANG and DOT1X_* reach the program.
  const script = port.script('auth.sh', [
    'echo "checking $DOT1X_IFNAME attempt $DOT1X_ATTEMPT"',
    '[ -n "$DOT1X_AUTH_TOKEN" ] || { echo "no token" >&2; exit 1; }',
    'echo "token accepted"',
  ].join('\n'));
  const d = DaemonProcess.start(port.host, port.execArgs(script, ['--log-level', 'trace']), { t, env: { DOT1X_AUTH_TOKEN: token } });
  await d.waitForState('eth0', 'authorized.steady');
  const mark = d.mark();
  d.signal('SIGHUP');
  await d.waitForLog(sighupExchangeDone, { from: mark, what: 're-authentication after SIGHUP' });
  const status = await runCli(port.host, ['status', 'eth0', '--json', '--run-dir', port.runDir]);
  d.signal('SIGTERM');
  const exit = await d.waitForExit();
  assert.equal(exit.code, 0, exit.stderr);
  assert.ok(d.logs.some((l) => l.level === LEVEL.trace), 'no trace line');
  assertAbsent(exit.stdout, token, 'stdout');
  assertAbsent(exit.stderr, token, 'stderr');
  assertAbsent(status.stdout + status.stderr, token, 'status output');
});

test('EAP-TLS with a key under a passphrase: neither the passphrase nor any key material appears in the log (trace), status, metrics or doctor', async (t) => {
  if (!needsRoot(t)) return;
  const passphrase = secret('keypass');
  const ca = await LabCa.create(t, 'sec-ca');
  const server = await ca.issue('server', 'd1x-lab-server', 'serverAuth', { fromDays: -1, toDays: 365 });
  const client = await ca.issue('client', 'lab-client', 'clientAuth', { fromDays: -1, toDays: 10 });
  // The key wpa_supplicant uses is encrypted; the plain one is kept to look for its bytes too.
  const encrypted = join(ca.dir, 'client.enc.key');
  execFileSync('openssl', ['pkcs8', '-topk8', '-in', client.key, '-out', encrypted, '-v2', 'aes-256-cbc', '-passout', `pass:${passphrase}`]);
  // Every base64 line of both keys: any of them in an output would be key material.
  const keyLines = [client.key, encrypted].flatMap((f) => readFileSync(f, 'utf8').split('\n').filter((l) => l.length >= 16 && !l.startsWith('-----')));
  // The client certificate file also holds its (plain) key, as some deployments keep them.
  const both = join(ca.dir, 'client-and-key.pem');
  writeFileSync(both, readFileSync(client.cert, 'utf8') + readFileSync(client.key, 'utf8'));
  const metrics = join(labDir('secmetrics', t), 'dot1x.prom');
  const lab = await Lab.create({
    t, prefix: 'stl', radius: true, eap: 'TLS', identity: 'lab-client', withDaemon: false,
    certs: { caCert: ca.cert, clientCert: both, clientKey: encrypted },
    serverCerts: { caCert: ca.cert, serverCert: server.cert, serverKey: server.key },
    users: [{ identity: 'lab-client', method: 'TLS' }],
    networkLines: [`private_key_passwd=${JSON.stringify(passphrase)}`],
    supplicantGlobals: ['fast_reauth=0'],
  });
  const d = lab.startDaemon(['--log-level', 'trace', '--metrics-file', metrics]);
  await d.waitForState(lab.ifname, 'authorized.steady', { timeoutMs: 15_000 });
  await d.waitForLog((l) => l.msg === 'certificate read' && l.role === 'client', { what: 'the client certificate read' });
  // The certificate expires in 10 days: the warning path runs too.
  await d.waitForLog((l) => l.msg === 'certificate expires soon', { what: 'the expiry warning' });

  let mark = d.mark();
  d.signal('SIGHUP');
  await d.waitForLog(sighupExchangeDone, { from: mark, what: 're-authentication after SIGHUP', timeoutMs: 15_000 });
  mark = d.mark();
  await lab.forceReauth();
  await d.waitForLog((l) => l.event === 'reauthenticated' && l.authorized === true, { from: mark, what: "the switch's re-authentication", timeoutMs: 15_000 });

  // A failure with a certificate cause: an expired certificate and its key renamed over the files.
  const expired = await ca.issue('expired', 'lab-client', 'clientAuth', { fromDays: -30, toDays: -1 });
  execFileSync('openssl', ['pkcs8', '-topk8', '-in', expired.key, '-out', join(ca.dir, 'next.key'), '-v2', 'aes-256-cbc', '-passout', `pass:${passphrase}`]);
  keyLines.push(...[expired.key, join(ca.dir, 'next.key')].flatMap((f) => readFileSync(f, 'utf8').split('\n').filter((l) => l.length >= 16 && !l.startsWith('-----'))));
  writeFileSync(join(ca.dir, 'next.pem'), readFileSync(expired.cert, 'utf8') + readFileSync(expired.key, 'utf8'));
  mark = d.mark();
  renameSync(join(ca.dir, 'next.key'), encrypted);
  renameSync(join(ca.dir, 'next.pem'), both);
  await d.waitForLog((l) => l.msg === 'certificate renewed', { from: mark, what: 'the replaced file read' });
  d.signal('SIGHUP');
  await d.waitForLog((l) => l.msg === 'authentication finished' && l.cause === 'client-certificate-expired', { from: mark, what: 'the refusal', timeoutMs: 15_000 });

  const outputs: Array<[string, string]> = [];
  for (const args of [['status', lab.ifname], ['status', lab.ifname, '--json'], ['doctor', lab.ifname], ['doctor', lab.ifname, '--json']]) {
    const r = await lab.cli(args);
    outputs.push([args.join(' '), r.stdout + r.stderr]);
  }
  assert.match(outputs[1]![1], /"certificates":\[/, 'status --json has no certificates');
  assert.match(outputs[2]![1], /cert client_cert/, 'doctor has no certificate line');
  outputs.push(['metrics file', readFileSync(metrics, 'utf8')]);
  assert.match(outputs.at(-1)![1], /certificate_expiry_timestamp_seconds/);
  const exit = await lab.stopDaemon('SIGTERM');
  assert.equal(exit.code, 0, exit.stderr);
  outputs.push(['stdout', exit.stdout], ['stderr', exit.stderr]);
  assert.ok(d.logs.some((l) => l.level === LEVEL.trace), 'no trace line: the test did not run at trace level');
  for (const [where, text] of outputs) {
    assertAbsent(text, passphrase, where);
    for (const line of keyLines) assertAbsent(text, line, `${where} (a line of the private key)`);
    assert.doesNotMatch(text, /PRIVATE KEY/, `${where} mentions the private key block`);
  }
});
