// The machine diagram in docs/machine.md is generated from the machine (tools/diagram.ts); this
// test fails when the picture and the code disagree. Fix: `npm run diagram`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DIAGRAM_PATH, pageDiagram, renderDiagram } from '../tools/diagram.js';
import { supplicantMachine } from '../machines/supplicant.js';

test('the diagram block of docs/machine.md equals renderDiagram() (run `npm run diagram` after changing the machine)', () => {
  const inPage = pageDiagram(readFileSync(DIAGRAM_PATH, 'utf8'));
  assert.notEqual(inPage, null, 'docs/machine.md has a mermaid block between the machine-diagram markers');
  assert.equal(inPage, renderDiagram());
});

test('the diagram names every state of the machine', () => {
  const text = renderDiagram();
  const walk = (node: { key: string; states: Record<string, unknown> }): string[] => [
    node.key,
    ...Object.values(node.states).flatMap((c) => walk(c as typeof node)),
  ];
  for (const key of walk(supplicantMachine.root as never).slice(1)) {
    assert.match(text, new RegExp(`\\b${key}\\b`), `state ${key} appears`);
  }
  assert.match(text, /^stateDiagram-v2/);
  assert.match(text, /authenticating --> authorized : authenticate done \[successInCurrentEpoch\]/);
});
