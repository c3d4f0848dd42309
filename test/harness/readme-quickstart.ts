/**
 * The README's quick start as data, so the test that runs it runs what a newcomer reads. A fenced
 * block right after `<!-- quickstart: start -->` is the whole set-up: the start command (it stays in
 * the foreground, in its own terminal) and the test command. Each block right after
 * `<!-- quickstart: steps -->` holds commands a second terminal runs in order, in the clone.
 * Whole-line comments are not commands; a line ending in `\` goes on on the next.
 *
 * @example
 * const qs = parseQuickStart(await readFile('README.md', 'utf8'));
 * qs.start; // 'bash scripts/start.sh    # installs what is missing, …'
 * qs.steps.filter((s) => stormCommand(s) === 'launch');
 */

export interface QuickStart {
  /** The start command, as written (comment included). */
  readonly start: string;
  /** The test command, as written. */
  readonly test: string;
  /** The second terminal's commands, in order, as written. */
  readonly steps: readonly string[];
}

const MARKER = /^<!--\s*quickstart:\s*(start|steps)\b.*-->\s*$/;

/** The commands of the fenced block that starts at `lines[at]`, and the index after its closing fence. */
function fencedCommands(lines: readonly string[], at: number): { commands: string[]; next: number } {
  if (!/^```/.test(lines[at] ?? ''))
    throw new Error(`README.md line ${at + 1}: a quickstart marker must be followed by a fenced code block`);
  const commands: string[] = [];
  let pending = '';
  let i = at + 1;
  for (; i < lines.length && !/^```/.test(lines[i]!); i++) {
    const line = lines[i]!;
    if (!pending && (/^\s*#/.test(line) || !line.trim())) continue;
    if (line.endsWith('\\')) {
      pending += `${line}\n`;
      continue;
    }
    commands.push(pending + line);
    pending = '';
  }
  if (i === lines.length) throw new Error(`README.md line ${at + 1}: the code block is never closed`);
  return { commands, next: i + 1 };
}

export function parseQuickStart(markdown: string): QuickStart {
  const lines = markdown.split('\n');
  const setup: string[][] = [];
  const steps: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = MARKER.exec(lines[i]!);
    if (!m) continue;
    const block = fencedCommands(lines, i + 1);
    m[1] === 'start' ? setup.push(block.commands) : steps.push(...block.commands);
    i = block.next - 1;
  }
  if (setup.length !== 1) throw new Error(`README.md must mark exactly one block <!-- quickstart: start --> (found ${setup.length})`);
  const setupCommands = setup[0]!;
  const start = setupCommands.filter((c) => /\bscripts\/start\.sh\b/.test(c));
  const test = setupCommands.filter((c) => /\bscripts\/test\.sh\b/.test(c));
  // The two commands are all the set-up: anything else there would go untested.
  if (start.length !== 1 || test.length !== 1 || setupCommands.length !== 2) {
    throw new Error(
      `the quickstart start block must hold the start command and the test command only, found: ${JSON.stringify(setupCommands)}`,
    );
  }
  if (!steps.length) throw new Error('README.md marks no <!-- quickstart: steps --> block');
  return { start: start[0]!, test: test[0]!, steps };
}

/** The command with a trailing ` # comment` taken off (bash drops it too). */
export function withoutComment(command: string): string {
  return command.replace(/\s+#.*$/, '').trim();
}

/** `show` for `node bin/storm.js show web1`; undefined when the line runs no `storm` command. */
export function stormCommand(command: string): string | undefined {
  return /\bbin\/storm\.js\s+(\S+)/.exec(command)?.[1];
}

/** True when the line puts its command in the background (`… &`). */
export function inBackground(command: string): boolean {
  return /[^&]&$/.test(withoutComment(command));
}

/** The `storm` commands the quick start must show, each proved by test/e2e/quickstart.test.ts. */
export const REQUIRED_STORM_COMMANDS = ['channel', 'appliances', 'pull', 'launch', 'show', 'console', 'rm'] as const;
