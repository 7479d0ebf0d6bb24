/**
 * The JavaScript-module backend: `--auth module --module PATH`.
 *
 * PATH (absolute, or relative to the working directory) is imported once, at start, by the path
 * it resolves to, once checked that only root can change it; every file it loads, then or
 * later, is checked as it loads (src/os/trusted-load.ts). Its default export is either
 * - an Authenticator object (`{ name?, authenticate(request, signal), watch?, close? }`), or
 * - a factory function, possibly async, called once as `factory({ logger })` and returning one.
 * Anything else is refused with a UsageError naming what is missing.
 *
 * The module's authenticate() is held to the contract: a rejection or a malformed result
 * becomes a 'failed' outcome, and an abort settles at once even if the module ignores it.
 */
import { constants } from 'node:fs';
import { fsPromises } from '../os/builtin.js';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError } from '../cli/errors.js';
import { AUTH_CAUSES, type AuthOutcome, type AuthPort, type AuthReport, type AuthRequest, type Authenticator } from './authenticator.js';
import { silentLogger, type StructuredLogger } from '../text/log.js';
import { checkTrustedFile } from '../os/trusted-file.js';
import { importModule } from '../os/import-module.js';
import { checkLoadedFiles, UNTRUSTED_LOAD } from '../os/trusted-load.js';
import { packageRoot } from '../os/package-root.js';

export interface ModuleOptions {
  path: string;
  logger?: StructuredLogger;
}

export interface ModuleFactoryContext {
  logger: StructuredLogger;
}

function validOutcome(o: unknown): o is AuthOutcome {
  if (typeof o !== 'object' || o === null) return false;
  const r = o as Record<string, unknown>;
  if (r.authorized === true) return true;
  return r.authorized === false && AUTH_CAUSES.includes(r.cause as never) && typeof r.message === 'string';
}

export async function loadModuleAuthenticator(o: ModuleOptions): Promise<Authenticator> {
  const abs = resolve(o.path);
  const log = o.logger ?? silentLogger;
  let real: string;
  try {
    const st = await fsPromises().stat(abs);
    if (!st.isFile()) throw new UsageError('auth-module-missing', `authentication module ${abs} is not a file`);
    await fsPromises().access(abs, constants.R_OK);
    real = checkTrustedFile(abs, 'authentication module', 'auth-module-unsafe');
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError('auth-module-missing', `authentication module ${abs} does not exist`);
    throw new UsageError('auth-module-unreadable', `authentication module ${abs} cannot be read (${code ?? (err as Error).message})`);
  }

  let ns: Record<string, unknown>;
  try {
    // What it imports is checked as it loads (src/os/trusted-load.ts); the file imported is the one checked.
    checkLoadedFiles(packageRoot()?.dir ?? null);
    ns = await importModule(pathToFileURL(real).href);
  } catch (err) {
    const message = (err as Error).message;
    const refused = message.indexOf(UNTRUSTED_LOAD);
    if (refused >= 0) {
      throw new UsageError('auth-module-unsafe', `authentication module ${abs} loads a file others could change: ${message.slice(refused + UNTRUSTED_LOAD.length)}`);
    }
    throw new UsageError('auth-module-import-failed', `authentication module ${abs} failed to load: ${message}`);
  }
  let impl: unknown = ns.default;
  if (impl === undefined) {
    throw new UsageError('auth-module-no-default', `authentication module ${abs} has no default export (export default an authenticator object or a factory function)`);
  }
  if (typeof impl === 'function') {
    try {
      impl = await (impl as (ctx: ModuleFactoryContext) => unknown)({ logger: log });
    } catch (err) {
      throw new UsageError('auth-module-factory-failed', `the factory exported by ${abs} threw: ${(err as Error).message}`);
    }
  }
  if (typeof impl !== 'object' || impl === null || typeof (impl as Authenticator).authenticate !== 'function') {
    throw new UsageError('auth-module-invalid', `authentication module ${abs}: its default export lacks authenticate(request, signal)`);
  }
  return new ModuleAuthenticator(impl as AuthModule, abs, log);
}

/** What a module exports (README): its watch() takes the interface's current name. */
interface AuthModule extends Omit<Authenticator, 'watch'> {
  watch?(ifname: string, onReport: (report: AuthReport) => void): () => void;
}

class ModuleAuthenticator implements Authenticator {
  readonly name: string;
  readonly watch?: (port: AuthPort, onReport: (report: AuthReport) => void) => () => void;

  constructor(private readonly impl: AuthModule, private readonly path: string, private readonly log: StructuredLogger) {
    this.name = typeof impl.name === 'string' && impl.name ? impl.name : 'module';
    if (typeof impl.watch === 'function') this.watch = (port, onReport) => impl.watch!(port.ifname, onReport);
  }

  async authenticate(request: AuthRequest, signal: AbortSignal): Promise<AuthOutcome> {
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<AuthOutcome>((resolve) => {
      onAbort = () => resolve({ authorized: false, cause: 'timeout', message: `module ${this.name} did not answer in time` });
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    const run = (async (): Promise<AuthOutcome> => {
      try {
        const o: unknown = await this.impl.authenticate(request, signal);
        if (validOutcome(o)) return o;
        this.log.error({ ifname: request.ifname, module: this.path }, 'authentication module returned a malformed outcome');
        return { authorized: false, cause: 'failed', message: `module ${this.name} returned a malformed outcome` };
      } catch (err) {
        this.log.error({ ifname: request.ifname, module: this.path, err: (err as Error).message }, 'authentication module threw');
        return { authorized: false, cause: 'failed', message: `module ${this.name} threw: ${(err as Error).message}` };
      }
    })();
    try {
      return await Promise.race([run, aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort!);
    }
  }

  async close(): Promise<void> {
    await this.impl.close?.();
  }
}
