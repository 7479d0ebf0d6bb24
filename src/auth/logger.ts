/**
 * What the authenticator backends log through: any pino-compatible logger (pino's own Logger
 * fits). Backends log structured fields first, message second, and never a secret: no
 * password, no CTRL-REQ-* text beyond its field name, no environment of a child.
 */
export interface AuthLogger {
  trace(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = (): void => {};

/** The default: logs nothing. */
export const silentLogger: AuthLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop };
