/**
 * Reads a publisher's pattern (ECMAScript syntax, `u` flag) into the structure a linear-time
 * matcher needs: atoms that each match one code point, zero-width assertions, sequences,
 * alternatives and repetitions. What only a backtracking engine can run (backreferences,
 * lookahead and lookbehind) is refused with a PatternError that says so. JavaScript's own parser
 * checks the syntax first, so this one only splits what is already valid.
 *
 * @example
 * parsePattern('[a-z]+(-[a-z]+)*'); // { kind: 'seq', items: [{ kind: 'repeat', … }, …] }
 */

/** One code point's test, written as the pattern wrote it: a literal, an escape, a class or `.`. */
export interface AtomNode {
  readonly kind: 'atom';
  readonly source: string;
}
export interface AssertNode {
  readonly kind: 'assert';
  /** `^` start, `$` end, `b` word boundary, `B` not a word boundary. */
  readonly at: '^' | '$' | 'b' | 'B';
}
export interface SeqNode {
  readonly kind: 'seq';
  readonly items: readonly PatternNode[];
}
export interface AltNode {
  readonly kind: 'alt';
  readonly options: readonly PatternNode[];
}
export interface RepeatNode {
  readonly kind: 'repeat';
  readonly item: PatternNode;
  readonly min: number;
  /** Infinity when unbounded. */
  readonly max: number;
}
export type PatternNode = AtomNode | AssertNode | SeqNode | AltNode | RepeatNode;

/** A pattern this engine will not run, or one that is not a valid expression at all. */
export class PatternError extends Error {
  override readonly name = 'PatternError';
}

export function parsePattern(pattern: string): PatternNode {
  try {
    new RegExp(pattern, 'u');
  } catch (err) {
    throw new PatternError(`does not compile: ${err instanceof Error ? err.message : String(err)}`);
  }
  const p = new Parser(pattern);
  const node = p.alternatives();
  // A stray `)` would have failed JavaScript's parse; anything left is our own mistake.
  if (!p.done()) throw new PatternError(`unexpected ${JSON.stringify(p.peek())} at ${p.pos}`);
  return node;
}

class Parser {
  pos = 0;
  constructor(private readonly src: string) {}

  done(): boolean {
    return this.pos >= this.src.length;
  }

  peek(offset = 0): string {
    return this.src[this.pos + offset] ?? '';
  }

  alternatives(): PatternNode {
    const options = [this.sequence()];
    while (this.peek() === '|') {
      this.pos++;
      options.push(this.sequence());
    }
    return options.length === 1 ? options[0]! : { kind: 'alt', options };
  }

  private sequence(): PatternNode {
    const items: PatternNode[] = [];
    while (!this.done() && this.peek() !== '|' && this.peek() !== ')') items.push(this.quantified(this.term()));
    return items.length === 1 ? items[0]! : { kind: 'seq', items };
  }

  private term(): PatternNode {
    const c = this.peek();
    if (c === '^' || c === '$') {
      this.pos++;
      return { kind: 'assert', at: c };
    }
    if (c === '(') return this.group();
    if (c === '[') return this.atom(this.classEnd());
    if (c === '\\') return this.escape();
    // One code point, astral ones included (the `u` flag reads the pattern by code points).
    const cp = String.fromCodePoint(this.src.codePointAt(this.pos)!);
    return this.atom(this.pos + cp.length);
  }

  private atom(end: number): AtomNode {
    const source = this.src.slice(this.pos, end);
    this.pos = end;
    return { kind: 'atom', source };
  }

  private group(): PatternNode {
    this.pos++;
    if (this.peek() === '?') {
      const next = this.peek(1);
      if (next === '=' || next === '!' || (next === '<' && (this.peek(2) === '=' || this.peek(2) === '!'))) {
        throw new PatternError(
          'lookahead and lookbehind ((?=…), (?!…), (?<=…), (?<!…)) are not supported: they need a backtracking engine',
        );
      }
      if (next === ':') this.pos += 2;
      else if (next === '<') this.pos = this.src.indexOf('>', this.pos) + 1;
      else throw new PatternError(`unsupported group (?${next}`);
    }
    const inner = this.alternatives();
    if (this.peek() !== ')') throw new PatternError(`unclosed group at ${this.pos}`);
    this.pos++;
    return inner;
  }

  /** Where the class starting here ends: in `u` mode the first unescaped `]` closes it. */
  private classEnd(): number {
    let i = this.pos + 1;
    if (this.src[i] === '^') i++;
    while (i < this.src.length && this.src[i] !== ']') i = this.src[i] === '\\' ? this.escapeEnd(i) : i + 1;
    return i + 1;
  }

  /** Where the escape starting at `i` (a backslash) ends. */
  private escapeEnd(i: number): number {
    const c = this.src[i + 1] ?? '';
    if ((c === 'p' || c === 'P' || c === 'u') && this.src[i + 2] === '{') return this.src.indexOf('}', i) + 1;
    if (c === 'u') {
      const end = i + 6;
      const unit = parseInt(this.src.slice(i + 2, end), 16);
      // A surrogate pair written as two escapes is one code point under `u`.
      if (unit >= 0xd800 && unit <= 0xdbff && this.src.slice(end, end + 2) === '\\u') {
        const low = parseInt(this.src.slice(end + 2, end + 6), 16);
        if (low >= 0xdc00 && low <= 0xdfff) return end + 6;
      }
      return end;
    }
    if (c === 'x') return i + 4;
    if (c === 'c') return i + 3;
    return i + 1 + String.fromCodePoint(this.src.codePointAt(i + 1)!).length;
  }

  private escape(): PatternNode {
    const c = this.peek(1);
    if (c === 'b' || c === 'B') {
      this.pos += 2;
      return { kind: 'assert', at: c };
    }
    if (/[1-9]/.test(c) || c === 'k')
      throw new PatternError('backreferences (\\1, \\k<name>) are not supported: they need a backtracking engine');
    return this.atom(this.escapeEnd(this.pos));
  }

  private quantified(item: PatternNode): PatternNode {
    let min: number;
    let max: number;
    const c = this.peek();
    if (c === '*' || c === '+' || c === '?') {
      this.pos++;
      [min, max] = c === '*' ? [0, Infinity] : c === '+' ? [1, Infinity] : [0, 1];
    } else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.pos));
      if (!m) return item;
      this.pos += m[0].length;
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
    } else {
      return item;
    }
    // Lazy or greedy matches the same whole strings.
    if (this.peek() === '?') this.pos++;
    return { kind: 'repeat', item, min, max };
  }
}
