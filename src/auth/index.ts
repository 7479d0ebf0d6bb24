/**
 * Makes the authenticator the CLI asked for (--auth wpa-supplicant | exec | module), checking
 * its inputs first: a person's mistake is a UsageError with a code and a message that says what
 * to fix, raised at start rather than at the first authentication.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../cli/errors.js';
import type { Authenticator } from './authenticator.js';
import type { StructuredLogger } from '../text/log.js';
import { checkTrustedFile } from '../os/trusted-file.js';
import { ExecAuthenticator, type ExecOptions } from './exec.js';
import { loadModuleAuthenticator } from './module.js';
import { ctrlKind, DEFAULT_WPA_CTRL, resolveCtrl, WpaSupplicantAuthenticator, type WpaSupplicantOptions } from './wpa-supplicant.js';

export type AuthKind = 'wpa-supplicant' | 'exec' | 'module';
export const AUTH_KINDS: readonly AuthKind[] = ['wpa-supplicant', 'exec', 'module'];

export type AuthenticatorOptions =
  | ({ kind: 'wpa-supplicant' } & WpaSupplicantOptions)
  | ({ kind: 'exec' } & ExecOptions)
  | { kind: 'module'; path: string; logger?: StructuredLogger };

export async function createAuthenticator(options: AuthenticatorOptions): Promise<Authenticator> {
  switch (options.kind) {
    case 'wpa-supplicant': {
      if (options.ctrl === '') throw new UsageError('wpa-ctrl-empty', '--wpa-ctrl must name a directory or a socket');
      const ctrl = resolveCtrl(options.ctrl ?? DEFAULT_WPA_CTRL);
      checkWpaCtrl(ctrl);
      return new WpaSupplicantAuthenticator({ ...options, ctrl });
    }
    case 'exec':
      checkProgram(options.path);
      return new ExecAuthenticator({ ...options, path: resolve(options.path) });
    case 'module':
      return loadModuleAuthenticator(options);
    default:
      throw new UsageError('auth-kind-unknown', `unknown --auth ${String((options as { kind: unknown }).kind)}: use one of ${AUTH_KINDS.join(', ')}`);
  }
}

/**
 * --wpa-ctrl: a directory or a socket. It may not exist yet (wpa_supplicant not started); it
 * must not be something else.
 */
function checkWpaCtrl(ctrl: string): void {
  if (ctrlKind(ctrl) === 'other') {
    throw new UsageError('wpa-ctrl-invalid', `--wpa-ctrl ${ctrl} is neither a directory nor a socket: give wpa_supplicant's ctrl_interface directory or its control socket`);
  }
}

function checkProgram(path: string): void {
  if (!path) throw new UsageError('exec-missing', '--auth exec needs --exec PATH');
  const abs = resolve(path);
  let st;
  try { st = statSync(abs); } catch {
    throw new UsageError('exec-missing', `--exec ${abs} does not exist`);
  }
  if (!st.isFile()) throw new UsageError('exec-not-file', `--exec ${abs} is not a regular file`);
  try { accessSync(abs, constants.X_OK); } catch {
    throw new UsageError('exec-not-executable', `--exec ${abs} is not executable (chmod +x it)`);
  }
  checkTrustedFile(abs, '--exec', 'exec-unsafe');
}

export type { Authenticator, AuthOutcome, AuthReport, AuthRequest, AuthCause } from './authenticator.js';
export type { ExecOptions } from './exec.js';
export type { WpaSupplicantOptions } from './wpa-supplicant.js';
