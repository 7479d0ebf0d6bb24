// What the daemon logs about its route socket (src/daemon/route-socket-log.ts), on a stand-in
// for the socket: the parser's dropped messages cannot be provoked from a sane kernel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { logRouteSocket } from '../src/daemon/route-socket-log.js';
import type { RouteSocketEvents } from '../src/netlink/route-socket.js';
import { OsError } from '../src/cli/errors.js';
import { captureLogger } from './lab/auth-lab.js';

test('messages the parser dropped are a warning with the count and the running total; receive failures an error', () => {
  const socket = new EventEmitter<RouteSocketEvents>();
  const log = captureLogger();
  logRouteSocket(socket, log, false);
  socket.emit('malformed', 2, 2);
  socket.emit('malformed', 1, 3);
  socket.emit('error', new OsError(9, 'recvmsg', 'receive on route socket'));
  assert.deepEqual(log.entries.map((e) => [e.level, e.obj]), [
    ['warn', { count: 2, total: 2 }],
    ['warn', { count: 1, total: 3 }],
    ['error', { err: 'receive on route socket: EBADF (system error)' }],
  ]);
  assert.match(log.entries[0]!.msg!, /dropped as malformed/);
});

test('link messages are logged at trace only when asked', () => {
  const rec = { name: 'eth0' } as RouteSocketEvents['link'][0];
  const quiet = new EventEmitter<RouteSocketEvents>();
  const quietLog = captureLogger();
  logRouteSocket(quiet, quietLog, false);
  quiet.emit('link', rec);
  quiet.emit('overrun');
  assert.deepEqual(quietLog.entries, []);

  const loud = new EventEmitter<RouteSocketEvents>();
  const loudLog = captureLogger();
  logRouteSocket(loud, loudLog, true);
  loud.emit('link', rec);
  loud.emit('otherFamily', rec);
  loud.emit('overrun');
  assert.deepEqual(loudLog.entries.map((e) => [e.level, e.msg]), [
    ['trace', 'netlink'], ['trace', 'netlink message of another family ignored'], ['trace', 'netlink overrun'],
  ]);
});
