// The machine diagram in docs/machine.md is generated from the machine (tools/diagram.ts). These
// tests fail when the picture and the code disagree: the page against the generator (fix: `npm
// run diagram`), and the generator's edges against the machine's transitions, read back from the
// Mermaid text by the drawing rules written on tools/diagram.ts collectEdges.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { AnyStateNode, TransitionDefinition } from 'xstate';
import { DIAGRAM_PATH, pageDiagram, renderDiagram, transitionLabel } from '../tools/diagram.js';
import { supplicantMachine } from '../machines/supplicant.js';

const root = supplicantMachine.root as AnyStateNode;

function allNodes(node: AnyStateNode): AnyStateNode[] {
  return [node, ...Object.values(node.states).flatMap((c) => allNodes(c as AnyStateNode))];
}

function isDescendant(node: AnyStateNode, of: AnyStateNode): boolean {
  for (let n = node.parent; n; n = n.parent) if (n === of) return true;
  return false;
}

/** One transition of the machine to one target: what some edge of the diagram must show. */
interface MachineEdge { source: AnyStateNode; target: AnyStateNode; label: string }

/** Every transition of the machine with a target, one per target, straight from the definition. */
function machineEdges(): MachineEdge[] {
  const out: MachineEdge[] = [];
  for (const node of allNodes(root)) {
    const ts = [...node.transitions.values()].flat().concat(node.always ?? []) as TransitionDefinition<any, any>[];
    for (const t of ts) {
      for (const target of (t.target ?? []) as AnyStateNode[]) out.push({ source: node, target, label: transitionLabel(node, t) });
    }
  }
  return out;
}

const describeNode = (n: AnyStateNode): string => (n === root ? '(root)' : n.path.join('.'));

/** A Mermaid id: a state's key where no other state has it, else its path joined by '_'. */
function nodeOfId(id: string): AnyStateNode | undefined {
  const nodes = allNodes(root).slice(1);
  const byKey = nodes.filter((n) => n.key === id);
  return byKey.length === 1 ? byKey[0] : nodes.find((n) => n.path.join('_') === id);
}

/** The one state called `key` inside `within` (or `within` itself), else undefined. */
function inside(within: AnyStateNode, key: string): AnyStateNode | undefined {
  const found = allNodes(within).filter((n) => n.key === key);
  return found.length === 1 ? found[0] : undefined;
}

interface DrawnEdge { line: string; block: AnyStateNode; from: AnyStateNode; source: AnyStateNode; target: AnyStateNode; base: string; fromNamed: boolean }

/** Everything wrong with `text` as a picture of the machine; empty when it is right. */
function diagramProblems(text: string): string[] {
  const problems: string[] = [];
  const stack: AnyStateNode[] = [root];
  const drawn: DrawnEdge[] = [];
  const initials = new Map<AnyStateNode, AnyStateNode[]>();
  const finals = new Set<AnyStateNode>();
  const childOfBlock = (id: string, line: string): AnyStateNode | undefined => {
    const n = nodeOfId(id);
    const block = stack.at(-1)!;
    if (!n) problems.push(`${line}: no state has the id ${id}`);
    else if (n.parent !== block) problems.push(`${line}: ${id} is not a child of ${describeNode(block)}`);
    else return n;
    return undefined;
  };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    let m: RegExpExecArray | null;
    if (line === 'stateDiagram-v2' || line === '--' || /^state "\w+" as \w+$/.test(line) || /^\w+$/.test(line)) continue;
    if ((m = /^state (\w+) \{$/.exec(line))) {
      const n = childOfBlock(m[1]!, line);
      stack.push(n ?? root);
    } else if (line === '}') {
      stack.pop();
    } else if ((m = /^\[\*\] --> (\w+)$/.exec(line))) {
      const n = childOfBlock(m[1]!, line);
      if (n) initials.set(stack.at(-1)!, [...(initials.get(stack.at(-1)!) ?? []), n]);
    } else if ((m = /^(\w+) --> \[\*\]$/.exec(line))) {
      const n = childOfBlock(m[1]!, line);
      if (n) finals.add(n);
    } else if ((m = /^(\w+) --> (\w+) : (.+?)(?: \(from (\w+)\))?(?: \(to (\w+)\))?$/.exec(line))) {
      const [, fromId, toId, base, fromKey, toKey] = m;
      const from = childOfBlock(fromId!, line);
      const to = childOfBlock(toId!, line);
      if (!from || !to) continue;
      const source = fromKey === undefined ? from : inside(from, fromKey);
      const target = toKey === undefined ? to : inside(to, toKey);
      if (!source || !target) {
        problems.push(`${line}: (from ${fromKey}) / (to ${toKey}) names no single state inside ${fromId} / ${toId}`);
        continue;
      }
      drawn.push({ line, block: stack.at(-1)!, from, source, target, base: base!, fromNamed: fromKey !== undefined });
    } else {
      problems.push(`${line}: not a line this diagram is made of`);
    }
  }
  // An edge shows a transition when the labels and the targets agree and it leaves from the
  // transition's state, or from a child of the composite that defines a transition into itself.
  const shows = (e: DrawnEdge, t: MachineEdge): boolean =>
    e.base === t.label && e.target === t.target &&
    (e.source === t.source || (!e.fromNamed && t.source === e.block && isDescendant(t.target, e.block)));
  const transitions = machineEdges();
  for (const e of drawn) {
    if (!transitions.some((t) => shows(e, t))) problems.push(`${e.line}: no such transition (${describeNode(e.source)} -> ${describeNode(e.target)})`);
  }
  for (const t of transitions) {
    if (!drawn.some((e) => shows(e, t))) problems.push(`not drawn: ${describeNode(t.source)} -> ${describeNode(t.target)} : ${t.label}`);
  }
  for (const node of allNodes(root)) {
    const children = Object.values(node.states) as AnyStateNode[];
    if (children.length === 0 || node.type === 'parallel') continue;
    const initial = node.initial?.target?.[0] as AnyStateNode | undefined;
    const shown = initials.get(node) ?? [];
    if (shown.length !== 1 || shown[0] !== initial) {
      problems.push(`${describeNode(node)}: initial state drawn as ${shown.map(describeNode).join(', ') || 'nothing'}, is ${initial ? describeNode(initial) : 'none'}`);
    }
    for (const child of children) {
      if ((child.type === 'final') !== finals.has(child)) problems.push(`${describeNode(child)}: final ${child.type === 'final'}, drawn so ${finals.has(child)}`);
    }
  }
  return problems;
}

test('the diagram block of docs/machine.md equals renderDiagram() (run `npm run diagram` after changing the machine)', () => {
  const inPage = pageDiagram(readFileSync(DIAGRAM_PATH, 'utf8'));
  assert.notEqual(inPage, null, 'docs/machine.md has a mermaid block between the machine-diagram markers');
  assert.equal(inPage, renderDiagram());
});

test('the diagram shows every transition of the machine, to its target, and nothing else', () => {
  const text = renderDiagram();
  assert.match(text, /^stateDiagram-v2/);
  assert.deepEqual(diagramProblems(text), []);
  // The count is what the check walked: every targeted transition of the definition.
  assert.ok(machineEdges().length > 50, `${machineEdges().length} transitions`);
});

test('the check fails on an edge dropped, invented or mis-targeted, and on the loop drawn to nowhere', () => {
  const text = renderDiagram();
  const line = '      held --> authenticating : after held';
  assert.ok(text.includes(`${line}\n`), 'the retry after HELD is drawn');
  const dropped = diagramProblems(text.replace(`${line}\n`, ''));
  assert.deepEqual(dropped, ['not drawn: running.pae.held -> running.pae.authenticating : after held']);
  assert.match(diagramProblems(text.replace(`${line}\n`, `${line}\n      held --> authorized : after held\n`)).join('\n'), /held --> authorized : after held: no such transition/);
  assert.equal(diagramProblems(text.replace(line, '      held --> disconnected : after held')).length, 2, 'the wrong edge, and the right one missing');
  const loop = '      authenticating --> authenticating : after startPeriod [startsLeft] (from connecting)';
  assert.ok(text.includes(loop), 'a new EAPOL-Start re-enters authenticating: a loop on it');
  const old = text.replace(loop, '      connecting --> undefined : after startPeriod [startsLeft] (to authenticating)');
  assert.match(diagramProblems(old).join('\n'), /no state has the id undefined/);
});

test('docs/machine.md places every state of the PAE region against IEEE 802.1X', () => {
  const page = readFileSync(DIAGRAM_PATH, 'utf8');
  const pae = allNodes(root).find((n) => n.key === 'pae')!;
  const unnamed = allNodes(pae).slice(1).map((n) => n.key).filter((key) => !page.includes(`\`${key}\``));
  assert.deepEqual(unnamed, [], 'states docs/machine.md does not name (in backticks)');
});
