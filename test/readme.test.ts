/**
 * The README as an administrator reads it: the path from what it is to installing it for a port
 * and checking it comes first, every link in it leads somewhere, and the demo output it shows
 * is what `node dist/test/demo.js` prints today (run here on the real kernel).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { needsRoot } from './lab/netns.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The text outside fenced code blocks (a "# comment" in a shell block is no heading). */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '');
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes. */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
}

test("the README reads as an administrator's path: what it is, try it, install it for a port, check it, then the reference", () => {
  const sections = [...prose(README).matchAll(/^## (.+)$/gm)].map((m) => m[1]!);
  assert.deepEqual(sections.slice(0, 4), ['The problem', 'Quick start', 'Installing it for a port', 'Checking a port: status, doctor, logs']);
  const install = README.slice(README.indexOf('## Installing it for a port'), README.indexOf('## Checking a port'));
  // Both units, the package's example configuration and what to edit in it.
  assert.match(install, /systemctl enable --now wpa_supplicant-wired@eth0\.service dot1x-operstate@eth0\.service/);
  assert.match(install, /\/usr\/share\/doc\/dot1x-operstate\/examples\/wpa_supplicant-wired-eth0\.conf/);
  for (const field of ['identity', 'password', 'ca_cert']) assert.match(install, new RegExp(`\`${field}\``));
  assert.match(install, /^### Docks and USB adapters/m);
  // The developer's material lives elsewhere.
  assert.doesNotMatch(README, /```mermaid/, 'the machine diagram is in docs/machine.md');
  assert.doesNotMatch(README, /^\| measurement \|/m, 'the benchmark table is in docs/benchmarks.md');
});

test('every relative link of the README, CONTRIBUTING.md and docs/README.md leads to a file, every #anchor to a heading', () => {
  for (const file of ['README.md', 'CONTRIBUTING.md', 'docs/README.md']) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    for (const [, target] of prose(text).matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue;
      const [path, anchor] = target!.split('#') as [string, string | undefined];
      const dest = path === '' ? join(ROOT, file) : join(dirname(join(ROOT, file)), path);
      assert.ok(existsSync(dest), `${file}: link to ${target} leads nowhere`);
      if (anchor !== undefined && dest.endsWith('.md')) {
        const headings = [...prose(readFileSync(dest, 'utf8')).matchAll(/^#+ (.+)$/gm)].map((m) => slug(m[1]!));
        assert.ok(headings.includes(anchor), `${file}: no heading for #${anchor} in ${path || file}`);
      }
    }
  }
});

test("the README's demo output is what the demo prints today", async (t) => {
  if (!needsRoot(t)) return;
  const start = README.indexOf('<!-- demo-output:start -->');
  const end = README.indexOf('<!-- demo-output:end -->');
  assert.ok(start > 0 && end > start, 'the README marks its demo output');
  const shown = /```\n([\s\S]*?)\n```/.exec(README.slice(start, end))![1]!.split('\n');

  const printed = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, [join(ROOT, 'dist/test/demo.js')], { cwd: '/', timeout: 90_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`the demo failed: ${error.message}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
  const lines = printed.split('\n');
  const row = /^\s*\d+ ms {2}(.*)$/;
  const rows = (list: string[]): string[] => list.flatMap((l) => { const m = row.exec(l); return m ? [m[1]!] : []; });

  // What it says it does, every step of it.
  const steps = lines.filter((l) => /^\d\. /.test(l));
  assert.ok(steps.length >= 5, printed);
  assert.deepEqual(shown.filter((l) => /^\d\. /.test(l)), steps, 'the numbered steps, all of them, as printed');
  // The timeline's rows (timings aside) are rows the demo printed, as often as it printed them;
  // what the demo did (">>") in the order it did it.
  const left = rows(lines);
  for (const r of rows(shown)) {
    const i = left.indexOf(r);
    assert.ok(i >= 0, `the README shows "${r}", which the demo no longer prints (or not as often):\n${printed}`);
    left.splice(i, 1);
  }
  const actions = (list: string[]): string[] => rows(list).filter((r) => r.startsWith('>> '));
  assert.deepEqual(actions(shown), actions(lines).filter((a) => actions(shown).includes(a)), 'the demo\'s actions in the order it takes them');
  // Every other line shown (the heading, the clean-up) is printed as shown.
  for (const l of shown.filter((x) => x !== '' && !/^\d\. /.test(x) && !row.test(x))) assert.ok(lines.includes(l), `"${l}" is not in the demo's output:\n${printed}`);
});
