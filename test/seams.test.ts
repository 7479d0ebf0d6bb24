// A fake stands in for one of the daemon's collaborators by implementing the interface whose doc
// comment states the contract (LinkSocket, NftRunner, Authenticator, ElementWriter, ...), never
// by a cast into the real class: such a cast hides every way the fake and the contract part.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

function tsFiles(dir: string): string[] {
  return readdirSync(join(REPO, dir)).flatMap((name) => {
    const rel = `${dir}/${name}`;
    if (statSync(join(REPO, rel)).isDirectory()) return tsFiles(rel);
    return name.endsWith('.ts') ? [rel] : [];
  });
}

/** A cast through unknown into Name, a class of ours: the places a fake is forced into a class. */
function castsIntoClasses(source: string, classes: ReadonlySet<string>): string[] {
  return [...source.matchAll(/\bas\s+unknown\s+as\s+([A-Z]\w*)\b/g)].map((m) => m[1]!).filter((name) => classes.has(name));
}

const CLASSES = new Set(['src', 'machines'].flatMap(tsFiles)
  .flatMap((f) => [...readFileSync(join(REPO, f), 'utf8').matchAll(/^export (?:abstract )?class (\w+)/gm)].map((m) => m[1]!)));

test('no test casts a fake into one of our classes through unknown: it implements the interface', () => {
  assert.ok(CLASSES.has('RouteSocket') && CLASSES.has('NftSession'), 'the classes were found');
  const casts = tsFiles('test').flatMap((f) => castsIntoClasses(readFileSync(join(REPO, f), 'utf8'), CLASSES).map((c) => `${f}: as unknown as ${c}`));
  assert.deepEqual(casts, []);
  const cast = (name: string): string => ['x', 'as', 'unknown', 'as', name].join(' ');
  assert.deepEqual(castsIntoClasses(`${cast('NftSession')}; ${cast('TestContext')}`, CLASSES), ['NftSession']);
});
