/** The README's quick start as the quick-start test reads it: markers, blocks, comments, continuations. */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inBackground, parseQuickStart, REQUIRED_STORM_COMMANDS, stormCommand, withoutComment } from './readme-quickstart.js';

const fence = '```';
const doc = (...parts: string[]) => parts.join('\n');
const startBlock = doc(
  '<!-- quickstart: start -->',
  `${fence}sh`,
  'bash scripts/start.sh   # start',
  'bash scripts/test.sh    # test',
  fence,
);

describe('parseQuickStart', () => {
  it('takes the start and test commands, and the steps of every marked block in order', () => {
    const md = doc(
      '# T',
      startBlock,
      'prose',
      '<!-- quickstart: steps (in order) -->',
      `${fence}sh`,
      '# a comment line is no command',
      'node bin/storm.js ls',
      '',
      'curl -s \\',
      '  https://x/',
      fence,
      `${fence}sh`,
      'echo unmarked block: not run',
      fence,
      '<!-- quickstart: steps -->',
      `${fence}sh`,
      'node bin/storm-channel.js serve dir &   # home & away',
      fence,
    );
    expect(parseQuickStart(md)).toEqual({
      start: 'bash scripts/start.sh   # start',
      test: 'bash scripts/test.sh    # test',
      steps: ['node bin/storm.js ls', 'curl -s \\\n  https://x/', 'node bin/storm-channel.js serve dir &   # home & away'],
    });
  });

  it('refuses a README without a start block, with more set-up than the two commands, or without steps', () => {
    const steps = doc('<!-- quickstart: steps -->', `${fence}sh`, 'true', fence);
    expect(() => parseQuickStart(steps)).toThrow(/exactly one block/);
    const more = doc(
      '<!-- quickstart: start -->',
      `${fence}sh`,
      'bash scripts/start.sh',
      'apt-get install foo',
      'bash scripts/test.sh',
      fence,
      steps,
    );
    expect(() => parseQuickStart(more)).toThrow(/start command and the test command only/);
    expect(() => parseQuickStart(startBlock)).toThrow(/no <!-- quickstart: steps -->/);
    expect(() => parseQuickStart(doc('<!-- quickstart: steps -->', 'prose', startBlock))).toThrow(/followed by a fenced code block/);
  });

  it('tells storm commands, comments and background lines apart', () => {
    expect(stormCommand('node bin/storm.js checkpoint web1 && node bin/storm.js upgrade web1 1.1.0')).toBe('checkpoint');
    expect(stormCommand('node bin/storm-channel.js serve d')).toBeUndefined();
    expect(withoutComment("node x &   # the sample channel's home")).toBe('node x &');
    expect(inBackground('node x &   # home')).toBe(true);
    expect(inBackground('a && b')).toBe(false);
  });
});

describe("this repository's README.md", () => {
  it('marks a quick start with the start command and every storm command the quick-start test proves', async () => {
    const qs = parseQuickStart(await readFile(resolve(import.meta.dirname, '../../README.md'), 'utf8'));
    expect(qs.start).toMatch(/^bash scripts\/start\.sh\b/);
    expect(qs.test).toMatch(/^bash scripts\/test\.sh\b/);
    const shown = new Set(qs.steps.map(stormCommand));
    expect(REQUIRED_STORM_COMMANDS.filter((c) => !shown.has(c))).toEqual([]);
  });
});
