/**
 * The picture of the supplicant machine in docs/machine.md, generated from the machine
 * definition (supplicantMachine.root), never drawn by hand: `npm run diagram` rewrites the block
 * between the markers, and test/machine-diagram.test.ts fails when the page and the machine
 * disagree.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AnyStateNode, TransitionDefinition } from 'xstate';
import { supplicantMachine } from '../machines/supplicant.js';

export const DIAGRAM_START = '<!-- machine-diagram:start -->';
export const DIAGRAM_END = '<!-- machine-diagram:end -->';

type Transition = TransitionDefinition<any, any>;

function allNodes(node: AnyStateNode): AnyStateNode[] {
  return [node, ...Object.values(node.states).flatMap((child) => allNodes(child as AnyStateNode))];
}

/** Mermaid ids: the state's key where it is unique in the machine, its path otherwise. */
function idMap(root: AnyStateNode): Map<AnyStateNode, string> {
  const nodes = allNodes(root).filter((n) => n !== root);
  const count = new Map<string, number>();
  for (const n of nodes) count.set(n.key, (count.get(n.key) ?? 0) + 1);
  return new Map(nodes.map((n) => [n, count.get(n.key) === 1 ? n.key : n.path.join('_')]));
}

function guardName(t: Transition): string | null {
  const g = t.guard as unknown;
  if (g === undefined || g === null) return null;
  if (typeof g === 'string') return g;
  if (typeof g === 'object' && 'type' in (g as object)) {
    const { type, params } = g as { type: string; params?: unknown };
    if (params && typeof params === 'object') {
      const args = Object.values(params as Record<string, unknown>).map(String).join(' ');
      return `${type} ${args}`;
    }
    return type;
  }
  return 'guard';
}

/** An edge's label: the event (`always`, `after <delay>`, `<actor> done`, ...) and the guard in brackets. */
export function transitionLabel(node: AnyStateNode, t: Transition): string {
  const guard = guardName(t);
  return guard ? `${eventLabel(node, t)} [${guard}]` : eventLabel(node, t);
}

function eventLabel(node: AnyStateNode, t: Transition): string {
  const type = t.eventType;
  if (type === '' || type === null) return 'always';
  const after = /^xstate\.after\.([^.]+)\./.exec(type);
  if (after) return `after ${after[1]}`;
  const actor = /^xstate\.(done|error)\.actor\.(.+)$/.exec(type);
  if (actor) {
    const invoke = node.invoke.find((i) => i.id === actor[2]);
    const src = typeof invoke?.src === 'string' ? invoke.src : (actor[2] ?? 'actor');
    return `${src} ${actor[1]}`;
  }
  return type;
}

function transitionsOf(node: AnyStateNode): Transition[] {
  const list: Transition[] = [];
  for (const ts of node.transitions.values()) list.push(...(ts as Transition[]));
  list.push(...((node.always ?? []) as Transition[]));
  return list;
}

interface Edge {
  from: string;
  to: string;
  label: string;
}

function ancestors(node: AnyStateNode): AnyStateNode[] {
  const chain: AnyStateNode[] = [];
  for (let n: AnyStateNode | undefined = node; n; n = n.parent) chain.unshift(n);
  return chain; // root first, node last
}

/** The child of `ancestor` on the way down to `node` (node itself when it is a direct child). */
function childToward(ancestor: AnyStateNode, node: AnyStateNode): AnyStateNode {
  const chain = ancestors(node);
  return chain[chain.indexOf(ancestor) + 1]!;
}

function isDescendant(node: AnyStateNode, of: AnyStateNode): boolean {
  return node !== of && ancestors(node).includes(of);
}

/**
 * Mermaid cannot draw a transition between states inside different composites, so every edge
 * is drawn between siblings, inside their parent's block: a transition that crosses a boundary
 * is lifted to the siblings that contain its ends, and the label names the inner state
 * ("(from X)", "(to Y)"). A transition to the state itself or to one of its ancestors is a loop
 * on the state it re-enters. A transition defined on a composite to one of its own descendants
 * applies in each of its children that does not handle the event itself, so it is drawn from
 * each of them. test/machine-diagram.test.ts reads these rules back.
 * Returns the edges grouped by the composite whose block holds them.
 */
function collectEdges(root: AnyStateNode, ids: Map<AnyStateNode, string>): Map<AnyStateNode, Edge[]> {
  const byBlock = new Map<AnyStateNode, Edge[]>();
  const add = (block: AnyStateNode, from: AnyStateNode, to: AnyStateNode, label: string) => {
    const list = byBlock.get(block) ?? [];
    if (!list.some((e) => e.from === ids.get(from) && e.to === ids.get(to) && e.label === label)) {
      list.push({ from: ids.get(from)!, to: ids.get(to)!, label });
    }
    byBlock.set(block, list);
  };
  for (const node of allNodes(root)) {
    for (const t of transitionsOf(node)) {
      if (!t.target || t.target.length === 0) continue;
      const base = transitionLabel(node, t);
      for (const target of t.target as AnyStateNode[]) {
        if (isDescendant(target, node)) {
          const toward = childToward(node, target);
          const label = toward === target ? base : `${base} (to ${target.key})`;
          for (const child of Object.values(node.states) as AnyStateNode[]) {
            if (child === toward || child.type === 'final' || child.transitions.has(t.eventType)) continue;
            add(node, child, toward, label);
          }
          continue;
        }
        if (target === node || isDescendant(node, target)) {
          // To itself or to an ancestor: that state is left and entered again (reenter), so the
          // edge is a loop on it, drawn in its parent's block.
          add(target.parent ?? root, target, target, target === node ? base : `${base} (from ${node.key})`);
          continue;
        }
        const a = ancestors(node);
        const b = ancestors(target);
        let lca = root;
        for (let i = 0; i < Math.min(a.length, b.length) && a[i] === b[i]; i++) lca = a[i]!;
        const from = childToward(lca, node);
        const to = childToward(lca, target);
        let label = base;
        if (from !== node) label += ` (from ${node.key})`;
        if (to !== target) label += ` (to ${target.key})`;
        add(lca, from, to, label);
      }
    }
  }
  return byBlock;
}

function declare(
  node: AnyStateNode,
  ids: Map<AnyStateNode, string>,
  edges: Map<AnyStateNode, Edge[]>,
  indent: string,
  out: string[],
): void {
  const id = ids.get(node)!;
  const children = Object.values(node.states) as AnyStateNode[];
  if (id !== node.key) out.push(`${indent}state "${node.key}" as ${id}`);
  if (children.length === 0) {
    // A bare id declares the state inside its composite (else Mermaid puts it at the top).
    if (id === node.key) out.push(`${indent}${id}`);
    return;
  }
  out.push(`${indent}state ${id} {`);
  body(node, ids, edges, `${indent}  `, out);
  out.push(`${indent}}`);
}

function body(node: AnyStateNode, ids: Map<AnyStateNode, string>, edges: Map<AnyStateNode, Edge[]>, indent: string, out: string[]): void {
  const children = Object.values(node.states) as AnyStateNode[];
  if (node.type === 'parallel') {
    children.forEach((child, i) => {
      if (i > 0) out.push(`${indent}--`);
      declare(child, ids, edges, indent, out);
    });
  } else {
    const initial = node.initial?.target?.[0] as AnyStateNode | undefined;
    if (initial) out.push(`${indent}[*] --> ${ids.get(initial)}`);
    for (const child of children) declare(child, ids, edges, indent, out);
  }
  for (const e of edges.get(node) ?? []) out.push(`${indent}${e.from} --> ${e.to} : ${e.label}`);
  for (const child of children) if (child.type === 'final') out.push(`${indent}${ids.get(child)} --> [*]`);
}

/** The machine as a Mermaid stateDiagram-v2 (without the code fence). */
export function renderDiagram(): string {
  const root = supplicantMachine.root as AnyStateNode;
  const ids = idMap(root);
  const out: string[] = ['stateDiagram-v2'];
  body(root, ids, collectEdges(root, ids), '  ', out);
  return out.join('\n');
}

/** The page's block: markers, a fenced mermaid diagram, markers. */
export function diagramBlock(): string {
  return `${DIAGRAM_START}\n\`\`\`mermaid\n${renderDiagram()}\n\`\`\`\n${DIAGRAM_END}`;
}

/** Replace the text between the markers (inclusive) with a fresh block. */
export function withDiagram(page: string): string {
  const start = page.indexOf(DIAGRAM_START);
  const end = page.indexOf(DIAGRAM_END);
  if (start < 0 || end < start) {
    throw new Error(`${DIAGRAM_PATH} has no "${DIAGRAM_START}" ... "${DIAGRAM_END}" block; add the two marker lines where the diagram belongs`);
  }
  return page.slice(0, start) + diagramBlock() + page.slice(end + DIAGRAM_END.length);
}

/** The page's current diagram text (between the fences), or null without a block. */
export function pageDiagram(page: string): string | null {
  const start = page.indexOf(DIAGRAM_START);
  const end = page.indexOf(DIAGRAM_END);
  if (start < 0 || end < start) return null;
  const block = page.slice(start + DIAGRAM_START.length, end);
  const m = /```mermaid\n([\s\S]*?)\n```/.exec(block);
  return m ? m[1]! : null;
}

/** The page that shows the diagram (maintainers read it there; the README links to it). */
export const DIAGRAM_PATH = fileURLToPath(new URL('../../docs/machine.md', import.meta.url));

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const page = readFileSync(DIAGRAM_PATH, 'utf8');
  const next = withDiagram(page);
  if (next !== page) writeFileSync(DIAGRAM_PATH, next);
  console.log(next === page ? 'machine diagram already current' : `machine diagram updated (${DIAGRAM_PATH})`);
}
