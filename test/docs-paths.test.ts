// Every path of ours cited in docs/, the README, examples/ and code comments exists, and every
// relative link of a Markdown page leads to a file: a file that moves takes its citations with it.
//
// Which tokens are ours: a token that starts with one of our top folders (see ROOTS) at a word
// boundary. Upstream sources use the same folder names (hostap's and systemd's src/, the kernel's
// tools/), so a token counts as ours only when
// - it ends in an extension our files in that folder have (src/ holds only .ts: hostap's
//   src/eapol_supp/eapol_supp_sm.c is not ours), or
// - it has no extension (a folder, a file like .ci/run, a name like test/bench/idle-cost) and
//   its first part below the root exists here (hostap's src/eapol_auth/ is not ours).
// A folder of ours that moves away is therefore not caught by its citations; a file is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const ROOTS = ['src', 'machines', 'test', 'native', 'tools', 'docs', 'examples', '.ci'];
/** Not ours to check: installed, built or generated. */
const SKIP_DIRS = new Set(['node_modules', 'dist', 'build', '.git']);

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(REPO, dir))) {
    const rel = dir === '' ? name : `${dir}/${name}`;
    if (SKIP_DIRS.has(name)) continue;
    if (statSync(join(REPO, rel)).isDirectory()) out.push(...walk(rel));
    else out.push(rel);
  }
  return out;
}

const FILES = ROOTS.filter((r) => existsSync(join(REPO, r))).flatMap((r) => walk(r));
const FILE_SET = new Set(FILES);

/** Extensions our files have under each root (".ts", ".md", ...; "" for none). */
const EXTENSIONS = new Map(ROOTS.map((r) => [r, new Set(FILES.filter((f) => f.startsWith(`${r}/`)).map((f) => extname(f)))]));

/** A file, a folder, or a name without its extension (test/bench/idle-cost) of ours. */
function known(rel: string): boolean {
  return FILE_SET.has(rel) || FILES.some((f) => f.startsWith(`${rel}/`) || f.startsWith(`${rel}.`));
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*\*\//g, '(?:.*/)?').replace(/\*/g, '[^/]*');
  return new RegExp(`^${body}$`);
}

const TOKEN = new RegExp(String.raw`(?<![\w./@$*-])((?:${ROOTS.map((r) => r.replace('.', '\\.')).join('|')})/[\w./@*-]*[\w/*])`, 'g');

/** Whether `token` (a path from the repository's root, perhaps a glob) is ours and missing. */
function missingPath(token: string): boolean {
  const root = token.slice(0, token.indexOf('/'));
  const path = token.replace(/\/+$/, '');
  const ext = extname(path);
  if (ext !== '' && !token.endsWith('/')) {
    if (!EXTENSIONS.get(root)?.has(ext)) return false; // not a kind of file we have there: upstream
    if (path.includes('*')) return !FILES.some((f) => globToRegExp(path).test(f));
    return !FILE_SET.has(path);
  }
  const first = path.split('/')[1];
  if (first === undefined || first === '') return false;
  if (!known(`${root}/${first}`)) return false; // upstream
  return !known(path);
}

/** The paths of ours cited in `text` that do not exist. */
function missingPaths(text: string): string[] {
  return [...text.matchAll(TOKEN)].map((m) => m[1]!).filter(missingPath);
}

/** What may cite a path: the comments of code (line and block comments), of shell (#), all of a page. */
function citingText(file: string, text: string): string {
  if (/\.(md|yml|conf|service)$/.test(file) || file.startsWith('examples/')) return text;
  if (/\.(ts|mjs|js|cc|h)$/.test(file)) return [...text.matchAll(/\/\*[\s\S]*?\*\/|(?<![:\\'"`])\/\/.*$/gm)].map((m) => m[0]).join('\n');
  if (/\.(gyp|gypi|json|bin)$/.test(file)) return '';
  return [...text.matchAll(/(?:^|\s)#.*$/gm)].map((m) => m[0]).join('\n'); // shell (.ci/, hooks)
}

/** Relative links of a Markdown page ([text](target)) that lead nowhere. */
function brokenLinks(file: string, text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = m[1]!.replace(/#.*$/, '');
    if (target === '' || /^[a-z]+:/.test(target)) continue;
    if (!existsSync(join(REPO, dirname(file), target))) out.push(target);
  }
  return out;
}

const SOURCES = ['README.md', ...FILES.filter((f) => !f.startsWith('test/fixtures/'))];

test('every path of ours cited in docs/, README.md, examples/ and code comments exists', () => {
  const problems: string[] = [];
  for (const file of SOURCES) {
    const text = readFileSync(join(REPO, file), 'utf8');
    for (const p of missingPaths(citingText(file, text))) problems.push(`${file}: cites ${p}, which does not exist`);
  }
  assert.deepEqual(problems, []);
});

test('every relative link of a Markdown page leads to a file', () => {
  const problems: string[] = [];
  for (const file of SOURCES.filter((f) => f.endsWith('.md'))) {
    for (const target of brokenLinks(file, readFileSync(join(REPO, file), 'utf8'))) problems.push(`${file}: link to ${target}`);
  }
  assert.deepEqual(problems, []);
});

test('the check flags a planted bad path and leaves upstream citations alone', () => {
  const planted = ['src', 'daemon', 'moved-away.ts'].join('/');
  const page = [
    `The lock lives in \`${planted}\`; the status socket in \`src/daemon/status-server.ts\`.`,
    'hostap: `src/eapol_supp/eapol_supp_sm.c`, `src/eapol_auth/`, `src/common/wpa_ctrl.h`;',
    'the kernel: `net/core/rtnetlink.c`, `tools/testing/selftests/net/`; libuv `src/unix/poll.c`;',
    'ours: `test/e2e-*.test.ts`, `test/bench/idle-cost`, `native/core/`, `docs/machine.md`.',
  ].join('\n');
  assert.deepEqual(missingPaths(page), [planted]);
  assert.deepEqual(missingPaths(['test', 'nowhere-*.test.ts'].join('/')), [['test', 'nowhere-*.test.ts'].join('/')]);
  assert.deepEqual(missingPaths(['docs', 'gone.md'].join('/')), [['docs', 'gone.md'].join('/')]);
  assert.deepEqual(missingPaths(['test', 'lab', 'gone-helper'].join('/')), [['test', 'lab', 'gone-helper'].join('/')], 'a name without extension in a folder of ours');
  assert.deepEqual(missingPaths('`.ci/run`, `tools/debian/changelog`, `native/NAME/build/Release`'), []);
  assert.deepEqual(missingPaths(['tools', 'gone', ''].join('/')), [], 'a folder of ours that is not there cannot be told from upstream');
  assert.deepEqual(brokenLinks('docs/README.md', '[a](kernel-contract.md#x) [b](../README.md) [c](https://x/y) [d](gone.md)'), ['gone.md']);
  assert.equal(citingText('x.ts', `const a = 1; // see ${planted}\n/* and docs/machine.md */`).includes(planted), true);
});
