// Example for `dot1x-operstate --auth module --module examples/auth-module.mjs`.
// The default export is an authenticator object (a factory function returning one also works,
// see src/auth/module.ts). This one authorizes ports whose MAC address is listed in the
// environment variable DOT1X_ALLOWED_MACS (comma-separated); with the variable unset, it rejects
// every port. It answers at once, so it has no use for the AbortSignal; a module that waits on
// something must stop waiting when the signal aborts.

/** @type {import('../src/auth/authenticator.js').Authenticator} */
export default {
  name: 'example-mac-allowlist',

  async authenticate(request, signal) {
    if (signal.aborted) return { authorized: false, cause: 'timeout', message: 'aborted' };
    const allowed = (process.env.DOT1X_ALLOWED_MACS ?? '')
      .split(',')
      .map((m) => m.trim().toLowerCase())
      .filter(Boolean);
    if (allowed.includes(request.mac.toLowerCase())) {
      return { authorized: true, details: { method: 'mac-allowlist' } };
    }
    return {
      authorized: false,
      cause: 'credentials-rejected',
      message: `${request.mac || 'no MAC'} is not in DOT1X_ALLOWED_MACS`,
    };
  },
};
