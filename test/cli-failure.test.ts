import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeFailure } from '../src/cli/failure.js';
import { OsError, UsageError } from '../src/cli/errors.js';

test('UsageError exits 2, everything else 1; always one line, never a stack', () => {
  assert.deepEqual(describeFailure(new UsageError('EUSAGE', 'bad\n  value')), { status: 2, message: 'bad value' });
  const eperm = describeFailure(new OsError(1, 'RTM_SETLINK', 'setLink', 'eth0'));
  assert.equal(eperm.status, 1);
  assert.match(eperm.message, /^setLink eth0: EPERM .*CAP_NET_ADMIN/);
  const eacces = Object.assign(new Error("EACCES: permission denied, mkdir '/run/x'"), { code: 'EACCES' });
  assert.deepEqual(describeFailure(eacces), { status: 1, message: "EACCES: permission denied, mkdir '/run/x' (run as root)" });
  const plain = new Error('line one\n    at somewhere (file.js:1:1)');
  assert.equal(describeFailure(plain).message.includes('\n'), false);
  assert.deepEqual(describeFailure('thrown string'), { status: 1, message: 'thrown string' });
  assert.deepEqual(describeFailure(new Error('')), { status: 1, message: 'Error' });
});
