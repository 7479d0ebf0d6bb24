/**
 * The journal format (--log-format journal, and `auto` under systemd): each log event becomes
 * one line that journald's stream reader files at the event's syslog priority, read as a
 * sentence with the remaining fields as KEY=value after it:
 *
 *   <4>eth0: authentication failed: credentials rejected by the switch (EAP-Failure from the
 *      authenticator); next attempt in 6 s event=authFinished attempt=1 cause=credentials-rejected
 *
 * The "<N>" prefix is what journald understands on a stream (sd-daemon(3), SD_WARNING and the
 * others; systemd.exec(5) SyslogLevelPrefix=, on by default): the line is stored with
 * PRIORITY=N and without the prefix. The journal adds the time, the pid, the host and the unit,
 * so the line leaves them out. Why a stream and not the native protocol: docs/logging.md.
 */
import { fstatSync } from 'node:fs';
import { printable } from './printable.js';

/** syslog priorities (sd-daemon(3)): what journalctl -p filters on. */
const CRIT = 2;
const ERR = 3;
const WARNING = 4;
const INFO = 6;
const DEBUG = 7;

/** The syslog priority of a pino level number (trace 10, debug 20, info 30, warn 40, error 50, fatal 60). */
export function priorityOf(level: number): number {
  if (level >= 60) return CRIT;
  if (level >= 50) return ERR;
  if (level >= 40) return WARNING;
  if (level >= 30) return INFO;
  return DEBUG;
}

/**
 * Whether FD is the stream systemd connected to the journal: JOURNAL_STREAM holds "DEV:INO" of
 * that stream (systemd.exec(5)), and it is only ours if FD is still that very socket: a
 * program may inherit the variable with its output sent elsewhere.
 */
export function isJournalStream(fd: number, env: NodeJS.ProcessEnv = process.env): boolean {
  const m = /^(\d+):(\d+)$/.exec(env.JOURNAL_STREAM ?? '');
  if (m === null) return false;
  try {
    const st = fstatSync(fd, { bigint: true });
    return st.dev === BigInt(m[1]!) && st.ino === BigInt(m[2]!);
  } catch {
    return false;
  }
}

/** What pino puts in every line and the journal already knows, or what leads the line. */
const LEFT_OUT = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'ifname']);

/** How each failure cause reads after "authentication failed: " (machines/ports.ts AuthCause). */
const CAUSE_TEXT: Record<string, string> = {
  'credentials-rejected': 'credentials rejected by the switch',
  'credentials-missing': 'the supplicant lacks a credential',
  'no-authenticator': 'no authenticator answered',
  'backend-unavailable': 'the authenticator backend is unavailable',
  timeout: 'no result in time',
};

/** A value as it goes after "KEY=": bare when it is one plain word, quoted otherwise; never a control character. */
function value(v: unknown): string {
  const text = typeof v === 'string' ? v
    : Array.isArray(v) && v.every((e) => typeof e !== 'object' || e === null) ? v.join(',')
      : typeof v === 'object' ? JSON.stringify(v) : String(v);
  const safe = printable(text);
  return safe !== '' && /^[^\s"]+$/.test(safe) ? safe : `"${safe.replace(/"/g, '\\"')}"`;
}

function seconds(ms: number): string {
  return `${Math.ceil(ms / 1000)} s`;
}

/** The sentence of an event and the fields it has said (left out of the KEY=value list). */
function sentence(e: Record<string, unknown>): { text: string; said: string[] } {
  const msg = printable(String(e.msg ?? ''));
  switch (msg) {
    case 'state': {
      if (typeof e.state !== 'string') break;
      const was = typeof e.previous === 'string'
        ? typeof e.durationMs === 'number' ? ` (after ${e.durationMs} ms in ${e.previous})` : ` (was ${e.previous})`
        : '';
      return { text: `state ${printable(e.state)}${printable(was)}`, said: ['state', 'previous', 'durationMs'] };
    }
    case 'authentication finished': {
      if (e.authorized === true) return { text: 'authentication succeeded', said: ['authorized', 'cause', 'message', 'heldMs'] };
      const cause = typeof e.cause === 'string' ? CAUSE_TEXT[e.cause] : undefined;
      const message = typeof e.message === 'string' && e.message !== '' ? printable(e.message) : undefined;
      const why = cause !== undefined && message !== undefined ? `${cause} (${message})` : cause ?? message ?? 'no reason given';
      const next = typeof e.heldMs === 'number' ? `; next attempt in ${seconds(e.heldMs)}` : '';
      return { text: `authentication failed: ${why}${next}`, said: ['authorized', 'message', 'heldMs'] };
    }
    case 'kernel shows operstate':
      if (typeof e.operstate === 'string') return { text: `kernel shows operstate ${printable(e.operstate)}`, said: ['operstate'] };
      break;
  }
  return { text: msg, said: [] };
}

/**
 * One pino event (its JSON line, parsed) as a journal line: "<N>", "IFNAME: " when the event is
 * about an interface, the sentence, then every other field that has a value as KEY=value.
 * Secrets were censored before the event was serialized (log.ts); control characters from
 * peers are escaped, so a line is always one line.
 */
export function journalLine(e: Record<string, unknown>): string {
  const { text, said } = sentence(e);
  let line = `<${priorityOf(typeof e.level === 'number' ? e.level : 30)}>`;
  if (typeof e.ifname === 'string') line += `${printable(e.ifname)}: `;
  line += text;
  for (const key of Object.keys(e)) {
    const v = e[key];
    if (v === null || v === undefined || LEFT_OUT.has(key) || said.includes(key)) continue;
    line += ` ${printable(key)}=${value(v)}`;
  }
  return `${line}\n`;
}

/**
 * "<3>" when FD is the journal stream, "" otherwise: what a line the program writes itself (the
 * one line of a failure on stderr) needs to reach `journalctl -p err` under systemd.
 */
export function errPrefix(fd: number): string {
  return isJournalStream(fd) ? `<${ERR}>` : '';
}
