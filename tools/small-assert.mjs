// The part of node:assert that yargs and sonic-boom use, for the bundle (tools/bundle.mjs):
// loading node:assert (its comparison and error-message machinery) cost every start about 5 ms
// (test/bench/start-to-managed) for checks that never fail in a correct program. Same
// contract: throw an Error with code ERR_ASSERTION when the check fails.

function fail(message, detail) {
  const err = new Error(message ?? detail);
  err.code = 'ERR_ASSERTION';
  throw err;
}

export function ok(value, message) {
  if (!value) fail(message, 'assertion failed');
}

export function strictEqual(actual, expected, message) {
  if (!Object.is(actual, expected)) fail(message, `expected ${String(expected)}, got ${String(actual)}`);
}

export function notStrictEqual(actual, expected, message) {
  if (Object.is(actual, expected)) fail(message, `expected anything but ${String(expected)}`);
}

export default Object.assign(ok, { ok, strictEqual, notStrictEqual });
