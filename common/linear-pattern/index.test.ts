import { describe, expect, it } from 'vitest';
import { compilePattern, MAX_STATES, patternProblem } from './index.js';

/** Patterns JavaScript's engine runs safely on short inputs: the linear engine must agree on every one. */
const PATTERNS = [
  '[A-Za-z ,!]{1,40}',
  '[a-z][a-z0-9-]{0,62}',
  'a|b|',
  '(a|ab)(c|bcd)(d*)',
  '(?:x|y)+z?',
  '(?<word>\\w+)-\\d{2,3}',
  '\\p{L}+',
  '\\p{Emoji}+',
  '[^\\s]*',
  '.{2}',
  '.*',
  '[\\u0041-\\u005A]+',
  '\\u{1F600}+',
  '\\uD83D\\uDE00',
  'é+',
  '😀{2}',
  '^ab$',
  'a^b',
  'a$b',
  '(a|b$)+',
  '(^a|b)+',
  'a$|b',
  '\\bfoo\\b.*',
  '\\Bo+\\B.',
  'x\\b',
  '(a*)*',
  '(a|)*b',
  '(){2}',
  'a{0}b',
  'a{2,}',
  'a{1,3}?b',
  '[-a]',
  '[a-]+',
  '[\\]]',
  '[^]',
  '[]',
  '\\.\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\/\\\\\\^\\$',
  '\\0',
  '\\x41',
  '\\cJ',
  '[\\b]',
  '\\t\\n?',
  '(?:(?:a|b)c){2}|d',
  '[0-9]{1,3}(\\.[0-9]{1,3}){3}',
  '[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*',
];
const ALPHABET = [
  'a',
  'b',
  'c',
  'd',
  'x',
  'y',
  'z',
  '-',
  '.',
  ' ',
  '!',
  '0',
  '5',
  'A',
  'Z',
  'é',
  '😀',
  '\n',
  '\b',
  '_',
  'f',
  'o',
  ']',
  '\\',
  '\uD83D',
];

function randomStrings(seed: number, count: number): string[] {
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  return Array.from({ length: count }, () =>
    Array.from({ length: Math.floor(rnd() * 12) }, () => ALPHABET[Math.floor(rnd() * ALPHABET.length)]).join(''),
  );
}

describe('compilePattern', () => {
  it('answers as JavaScript does for whole-value tests, on every pattern and a thousand strings each', () => {
    let matched = 0;
    const samples = [
      '',
      'a',
      'ab',
      'abcd',
      'abbcdd',
      'foo',
      'foo bar',
      'Hello, world!',
      '10.77.0.1',
      'web-1.storm.internal',
      '😀😀',
      'éé',
      'A-12',
      'xyz',
      'zz',
    ];
    for (const pattern of PATTERNS) {
      const js = new RegExp(`^(?:${pattern})$`, 'u');
      const mine = compilePattern(pattern);
      for (const value of [...samples, ...randomStrings(pattern.length, 1000)]) {
        expect([pattern, value, mine.test(value)]).toEqual([pattern, value, js.test(value)]);
        if (js.test(value)) matched++;
      }
    }
    // Not a vacuous agreement: many values match.
    expect(matched).toBeGreaterThan(2000);
  });

  it('runs patterns that are catastrophic for a backtracking engine in linear time', () => {
    const evil = ['(a+)+', '(a|a)*', '(a|aa)+', '(a*)*b', '([a-z]+)*[0-9]', '(\\w+\\s?)+$', '(.*a){12}'];
    const value = `${'a'.repeat(1023)}!`;
    for (const pattern of evil) {
      const p = compilePattern(pattern);
      const t0 = performance.now();
      expect([pattern, p.test(value)]).toEqual([pattern, false]);
      expect([pattern, performance.now() - t0 < 250]).toEqual([pattern, true]);
    }
  });

  it('refuses what needs backtracking, and automata past the size cap, saying why', () => {
    expect(patternProblem('(a)\\1')).toMatch(/^backreferences .* not supported: they need a backtracking engine$/);
    expect(patternProblem('(?<x>a)\\k<x>')).toMatch(/^backreferences/);
    for (const look of ['a(?=b)', 'a(?!b)', '(?<=a)b', '(?<!a)b'])
      expect(patternProblem(look)).toMatch(/^lookahead and lookbehind .* not supported/);
    expect(patternProblem('(a{100}){100}')).toBe(`too complex: its repetitions need 10000 states, more than ${MAX_STATES}`);
    expect(patternProblem('((a{1000}){1000}){2000}')).toMatch(/^too complex: its repetitions need over a billion states/);
    expect(patternProblem('a{2000}')).toBe(undefined);
    expect(patternProblem('(')).toMatch(/^does not compile: /);
    expect(patternProblem('\\p{Nope}')).toMatch(/^does not compile: /);
  });
});
