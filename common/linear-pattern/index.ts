/**
 * Parameter patterns in bounded time, whatever the publisher writes: the pattern (ECMAScript
 * syntax, `u` flag) becomes a Thompson automaton that is run on every state at once, so a test
 * costs at most the value's length times the automaton's size; no input makes it backtrack. Each
 * atom (a literal, an escape, a class, `.`) is still matched by JavaScript's own engine, one code
 * point at a time, so classes and `\p{…}` mean exactly what they mean in a RegExp. Backreferences
 * and lookaround are refused, and so is a pattern whose automaton would exceed MAX_STATES.
 * Not the `re2` package: its current release needs Node 22 or later (STORM runs on 20) and a native
 * build, fetched from outside the npm registry or else compiled with RE2 and Abseil on every host.
 *
 * @example
 * const p = compilePattern('(a+)+'); // linear here, exponential for a backtracking engine
 * p.test('a'.repeat(63) + '!'); // false, at once
 * patternProblem('(a)\\1'); // 'backreferences (\1, \k<name>) are not supported: …'
 */
import { type AtomNode, type PatternNode, PatternError, parsePattern } from './parse.js';

export { PatternError } from './parse.js';

/** The automaton's size cap: a test costs at most this many steps per code point of the value. */
export const MAX_STATES = 2000;

export interface LinearPattern {
  readonly source: string;
  /** True when the whole of `value` matches (as `^(?:pattern)$` would). */
  test(value: string): boolean;
}

type State =
  | { t: 'char'; test: (cp: string) => boolean; next: number }
  | { t: 'split'; a: number; b: number }
  | { t: 'assert'; at: '^' | '$' | 'b' | 'B'; next: number }
  | { t: 'match' };

/** Compiled patterns by source, the last few kept: a launch form checks the same ones again and again. */
const compiled = new Map<string, LinearPattern>();
const KEEP = 256;

/** Compiles `pattern` for whole-value tests; throws PatternError when it cannot run here. */
export function compilePattern(pattern: string): LinearPattern {
  let p = compiled.get(pattern);
  if (!p) {
    p = compile(pattern);
    if (compiled.size >= KEEP) compiled.delete(compiled.keys().next().value!);
    compiled.set(pattern, p);
  }
  return p;
}

function compile(pattern: string): LinearPattern {
  const tree = parsePattern(pattern);
  const size = stateCount(tree);
  if (size > MAX_STATES)
    throw new PatternError(`too complex: its repetitions need ${size > 1e9 ? 'over a billion' : size} states, more than ${MAX_STATES}`);
  const states: State[] = [{ t: 'match' }];
  const start = build(tree, 0, states, new Map());
  return { source: pattern, test: (value) => run(states, start, Array.from(value)) };
}

/** What is wrong with `pattern` for this engine, or undefined when it runs. */
export function patternProblem(pattern: string): string | undefined {
  try {
    compilePattern(pattern);
    return undefined;
  } catch (err) {
    if (err instanceof PatternError) return err.message;
    throw err;
  }
}

/** How many states `node` becomes, counted before building so a huge `{n}` is refused cheaply. */
function stateCount(node: PatternNode): number {
  switch (node.kind) {
    case 'atom':
    case 'assert':
      return 1;
    case 'seq':
      return node.items.reduce((n, i) => n + stateCount(i), 0);
    case 'alt':
      return node.options.reduce((n, o) => n + stateCount(o), 0) + node.options.length - 1;
    case 'repeat': {
      const copies = node.max === Infinity ? node.min + 1 : node.max;
      return copies * stateCount(node.item) + (node.max === Infinity ? 1 : node.max - node.min);
    }
  }
}

/** Appends `node`'s states, wired to continue at `next`; returns its entry state. */
function build(node: PatternNode, next: number, states: State[], atoms: Map<AtomNode, (cp: string) => boolean>): number {
  const push = (s: State) => states.push(s) - 1;
  switch (node.kind) {
    case 'atom': {
      let test = atoms.get(node);
      if (!test) {
        test = atomTest(node.source);
        atoms.set(node, test);
      }
      return push({ t: 'char', test, next });
    }
    case 'assert':
      return push({ t: 'assert', at: node.at, next });
    case 'seq':
      return node.items.reduceRight((to, item) => build(item, to, states, atoms), next);
    case 'alt':
      return node.options.map((o) => build(o, next, states, atoms)).reduceRight((rest, first) => push({ t: 'split', a: first, b: rest }));
    case 'repeat': {
      let entry = next;
      if (node.max === Infinity) {
        // The loop: a split that enters the item (which comes back to it) or leaves.
        const loop = push({ t: 'split', a: -1, b: next });
        (states[loop] as { a: number }).a = build(node.item, loop, states, atoms);
        entry = loop;
      } else {
        for (let i = node.min; i < node.max; i++) entry = push({ t: 'split', a: build(node.item, entry, states, atoms), b: next });
      }
      for (let i = 0; i < node.min; i++) entry = build(node.item, entry, states, atoms);
      return entry;
    }
  }
}

/** One atom as JavaScript reads it, asked once per distinct code point. */
function atomTest(source: string): (cp: string) => boolean {
  const re = new RegExp(`^(?:${source})$`, 'u');
  const seen = new Map<string, boolean>();
  return (cp) => {
    let hit = seen.get(cp);
    if (hit === undefined) {
      hit = re.test(cp);
      // Bounded: a compiled pattern is kept, and values may bring any code points.
      if (seen.size >= 4096) seen.clear();
      seen.set(cp, hit);
    }
    return hit;
  };
}

const isWord = (cp: string | undefined): boolean => cp !== undefined && /^[A-Za-z0-9_]$/.test(cp);

function holds(at: '^' | '$' | 'b' | 'B', cps: readonly string[], pos: number): boolean {
  if (at === '^') return pos === 0;
  if (at === '$') return pos === cps.length;
  const boundary = isWord(cps[pos - 1]) !== isWord(cps[pos]);
  return at === 'b' ? boundary : !boundary;
}

/** Every state alive at once, one code point at a time (Thompson's simulation). */
function run(states: readonly State[], start: number, cps: readonly string[]): boolean {
  const seen = new Uint32Array(states.length);
  let stamp = 0;
  // The char states reachable at `pos` from `from` through splits and assertions that hold there.
  const closure = (from: readonly number[], pos: number): { chars: number[]; matched: boolean } => {
    stamp++;
    const chars: number[] = [];
    let matched = false;
    const stack = [...from];
    while (stack.length) {
      const i = stack.pop()!;
      if (seen[i] === stamp) continue;
      seen[i] = stamp;
      const s = states[i]!;
      if (s.t === 'char') chars.push(i);
      else if (s.t === 'match') matched = true;
      else if (s.t === 'split') stack.push(s.b, s.a);
      else if (holds(s.at, cps, pos)) stack.push(s.next);
    }
    return { chars, matched };
  };
  let live = closure([start], 0);
  for (let pos = 0; pos < cps.length; pos++) {
    const cp = cps[pos]!;
    const next: number[] = [];
    for (const i of live.chars) {
      const s = states[i] as Extract<State, { t: 'char' }>;
      if (s.test(cp)) next.push(s.next);
    }
    if (next.length === 0) return false;
    live = closure(next, pos + 1);
  }
  return live.matched;
}
