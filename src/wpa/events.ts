/**
 * wpa_supplicant control-interface messages: unsolicited events are `<level>TEXT` (level 3 =
 * MSG_INFO, wpa_supplicant/ctrl_iface_unix.c wpa_supplicant_ctrl_iface_send); replies to
 * requests have no prefix. Event names: wpa_ctrl.h (WPA_EVENT_EAP_SUCCESS, ...).
 */

export interface WpaEvent {
  level: number;
  /** The text after the prefix, e.g. "CTRL-EVENT-EAP-SUCCESS EAP authentication completed successfully". */
  text: string;
  /** The first word, e.g. "CTRL-EVENT-EAP-SUCCESS" (for CTRL-REQ-* only "CTRL-REQ-<FIELD>"). */
  name: string;
}

/** Whether a datagram is an event rather than a reply. */
export function isEvent(msg: string): boolean {
  return msg.startsWith('<');
}

/**
 * MSG without its trailing newlines. A loop, not /\n+$/: that regex retries at every newline
 * of a run that is not at the end, which is quadratic on a datagram of newlines (a peer's
 * 64 KiB of them froze the event loop for seconds). Every parsing step here stays linear.
 */
function trimNewlines(msg: string): string {
  let end = msg.length;
  while (end > 0 && msg.charCodeAt(end - 1) === 10) end--;
  return end === msg.length ? msg : msg.slice(0, end);
}

/**
 * The text between the first '(' at or after FROM and the next ')', or undefined (linear,
 * unlike an unanchored /\(([^)]+)\)/, which rescans the rest from every '(').
 */
export function parenthesized(text: string, from = 0): { inner: string; end: number } | undefined {
  const open = text.indexOf('(', from);
  if (open < 0) return undefined;
  const close = text.indexOf(')', open + 1);
  if (close < 0) return undefined;
  // [^)]+ would not match across another '(' either way; the innermost one wins.
  const inner = text.slice(text.lastIndexOf('(', close) + 1, close);
  return inner ? { inner, end: close + 1 } : undefined;
}

/** Parses `<level>TEXT`; null for anything malformed (the caller logs and ignores it). */
export function parseEvent(msg: string): WpaEvent | null {
  const m = /^<(\d{1,2})>([^\s][^]*)$/.exec(trimNewlines(msg));
  if (!m) return null;
  const text = m[2]!;
  const word = text.split(/\s/, 1)[0]!;
  const req = credentialRequest(text);
  return { level: Number(m[1]), text, name: req ? `CTRL-REQ-${req.field}` : word };
}

/**
 * `CTRL-REQ-<FIELD>-<id>:<prompt>` (wpa_ctrl.h WPA_CTRL_REQ): the network needs a credential
 * it has not got. Only the field name is returned; the prompt is never logged.
 */
export function credentialRequest(text: string): { field: string; networkId: string } | null {
  const m = /^CTRL-REQ-([A-Z0-9_]+)-(\d+):/.exec(text);
  return m ? { field: m[1]!, networkId: m[2]! } : null;
}

/** What an event is safe to show in a log: CTRL-REQ-* reduced to its name. */
export function loggable(ev: WpaEvent): string {
  return ev.name.startsWith('CTRL-REQ-') ? ev.name : ev.text.slice(0, 512);
}

export const EV = {
  EAP_STARTED: 'CTRL-EVENT-EAP-STARTED',
  EAP_METHOD: 'CTRL-EVENT-EAP-METHOD',
  EAP_SUCCESS: 'CTRL-EVENT-EAP-SUCCESS',
  EAP_FAILURE: 'CTRL-EVENT-EAP-FAILURE',
  TERMINATING: 'CTRL-EVENT-TERMINATING',
} as const;

/** "CTRL-EVENT-EAP-METHOD EAP vendor 0 method 4 (MD5) selected" -> "MD5". */
export function eapMethodOf(ev: WpaEvent): string | undefined {
  if (ev.name !== EV.EAP_METHOD) return undefined;
  const at = ev.text.indexOf(') selected');
  if (at < 0) return undefined;
  const open = ev.text.lastIndexOf('(', at);
  const name = ev.text.slice(open + 1, at);
  return open >= 0 && name && !name.includes(')') ? name : undefined;
}
