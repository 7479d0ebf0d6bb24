/**
 * The wpa_supplicant backend against a scripted control socket, for orderings of events and
 * replies that real peers produce only by chance: here an EAP-Failure that wpa_supplicant emits
 * after the EAP-Success of our exchange while the backend waits for STATUS to confirm that
 * success, and a STATUS that was answered before the failure (Authorized). The newer verdict
 * wins (docs/wpa-supplicant.md#events-that-belong-to-no-exchange).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { WpaSupplicantAuthenticator } from '../src/auth/wpa-supplicant.js';
import type { AuthReport } from '../src/auth/authenticator.js';
import { labDir } from './lab/peer-process.js';
import { captureLogger, withTimeout } from './lab/auth-lab.js';

/**
 * A control socket that plays wpa_supplicant for one re-authentication: PAE AUTHENTICATED, no
 * network that makes EAP success an authorized port (LIST_NETWORKS lists none, so each success
 * waits for STATUS), REAUTHENTICATE answered with EAP-STARTED and EAP-SUCCESS. The STATUS that
 * confirms the success first emits CTRL-EVENT-EAP-FAILURE to the monitors, then answers
 * Authorized: the event datagram reaches the client before the reply.
 */
const SCRIPTED = `
import socket, sys
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
print('ready', flush=True)
attached = []
statuses = 0
authorized = 'wpa_state=COMPLETED\\nSupplicant PAE state=AUTHENTICATED\\nsuppPortStatus=Authorized\\nEAP state=SUCCESS\\nselectedMethod=4 (EAP-MD5)\\n'
def send(peer, text):
    try:
        s.sendto(text.encode(), peer)
    except OSError:
        pass
def event(text):
    for p in attached:
        send(p, '<3>' + text)
while True:
    data, peer = s.recvfrom(4096)
    cmd = data.decode(errors='replace').strip()
    if cmd == 'ATTACH':
        attached.append(peer)
        send(peer, 'OK\\n')
    elif cmd == 'DETACH':
        attached = [p for p in attached if p != peer]
        send(peer, 'OK\\n')
    elif cmd == 'PING':
        send(peer, 'PONG\\n')
    elif cmd == 'LIST_NETWORKS':
        send(peer, 'network id / ssid / bssid / flags\\n')
    elif cmd == 'STATUS':
        statuses += 1
        if statuses == 2:
            event('CTRL-EVENT-EAP-FAILURE EAP authentication failed')
        send(peer, authorized)
    elif cmd == 'REAUTHENTICATE':
        send(peer, 'OK\\n')
        event('CTRL-EVENT-EAP-STARTED EAP authentication started')
        event('CTRL-EVENT-EAP-SUCCESS EAP authentication completed successfully')
    else:
        send(peer, 'FAIL\\n')
`;

async function scriptedSocket(t: TestContext): Promise<{ dir: string; path: string }> {
  const dir = labDir('wpa-script', t);
  const path = join(dir, 'eth0');
  const server = spawn('/usr/bin/python3', ['-c', SCRIPTED, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => { server.kill('SIGKILL'); });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the scripted control socket did not start within 10 s')), 10_000);
    server.stdout.once('data', () => { clearTimeout(timer); resolve(); });
  });
  return { dir, path };
}

test('an EAP-Failure after our EAP-Success, while STATUS confirms it: the outcome is that failure, even when STATUS said Authorized', async (t) => {
  const { dir, path } = await scriptedSocket(t);
  const log = captureLogger();
  const auth = new WpaSupplicantAuthenticator({ ctrl: path, logger: log, clientDirBase: dir, healthIntervalMs: 60_000, requestTimeoutMs: 2_000 });
  t.after(() => auth.close());
  const port = { ifname: 'eth0', ifindex: 7 };
  const reports: AuthReport[] = [];
  const stop = auth.watch(port, (r) => reports.push(r));
  const o = await withTimeout(auth.authenticate({ ...port, mac: '02:00:00:00:00:07', attempt: 1, reason: 'reauthenticate', whileAuthorized: true },
    AbortSignal.timeout(5_000)), 10_000, 'the re-authentication');
  assert.equal(o.authorized, false, `the success stood although an EAP-Failure followed it: ${JSON.stringify(o)}\n${log.text()}`);
  if (!o.authorized) assert.equal(o.cause, 'credentials-rejected');
  // One verdict, the call's: no report of the same failure besides.
  assert.deepEqual(reports.filter((r) => r.type === 'reauthenticated'), []);
  stop();
  await auth.close();
});
