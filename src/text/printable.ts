/**
 * TEXT with C0/C1 control characters (and the backslash that introduces an escape) written as
 * \xNN: text from an authentication peer or a program must not be able to move the cursor,
 * rewrite a terminal's title or forge lines in what we print or log.
 */
export function printable(text: string): string {
  return text.replace(/[\x00-\x1f\x7f-\x9f\\]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
