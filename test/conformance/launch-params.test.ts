/**
 * The console's launch-form checks (console/src/launch/validate-param.ts) and the manager's
 * `resolveParams` give the same answer for the same input: accepted with the same value, or
 * refused for the same reason. It imports two programs, so it lives in test/ (the import rule,
 * docs/development.md).
 */
import { describe, expect, it } from 'vitest';
import type { Parameter } from '../../channels/src/format/index.js';
import { checkInstanceName, checkParam } from '../../console/src/launch/validate-param.js';
import { resolveParams } from '../../manager/src/instances/params.js';
import { INSTANCE_NAME } from '../../manager/src/instances/launcher.js';

const P = {
  greeting: { name: 'greeting', type: 'string', description: 'the greeting', default: 'Hello', pattern: '[A-Za-z0-9 ,.!-]{1,60}' },
  free: { name: 'free', type: 'string', description: 'anything' },
  port: { name: 'port', type: 'integer', description: 'a port', default: 80, min: 1, max: 65535 },
  count: { name: 'count', type: 'integer', description: 'required count' },
  tls: { name: 'tls', type: 'boolean', description: 'TLS on', default: false },
  emoji: { name: 'emoji', type: 'string', description: 'unicode class', pattern: '\\p{Emoji}+' },
  evil: { name: 'evil', type: 'string', description: 'catastrophic for a backtracking engine', pattern: '(a+)+' },
  lookahead: { name: 'lookahead', type: 'string', description: 'needs backtracking', pattern: '(?!x)\\w+' },
} satisfies Record<string, Parameter>;

const CASES: [Parameter, string | boolean | undefined][] = [
  [P.greeting, undefined],
  [P.greeting, 'Hi there!'],
  [P.greeting, 'Hi <script>'],
  [P.greeting, 'x'.repeat(61)],
  [P.free, undefined],
  [P.free, 'x'.repeat(1025)],
  [P.free, 'tab\there'],
  [P.free, 'bell\u0007'],
  [P.free, 'ok'],
  [P.port, undefined],
  [P.port, '8080'],
  [P.port, '0'],
  [P.port, '65536'],
  [P.port, '80.5'],
  [P.port, ' 80'],
  [P.port, '-1'],
  [P.port, '99999999999999999999'],
  [P.count, undefined],
  [P.count, '3'],
  [P.tls, undefined],
  [P.tls, true],
  [P.tls, 'true'],
  [P.tls, 'yes'],
  [P.emoji, '🙂'],
  [P.emoji, 'a'],
  [P.evil, `${'a'.repeat(1000)}!`],
  [P.evil, 'a'.repeat(1000)],
  [P.lookahead, 'abc'],
];

function server(p: Parameter, raw: string | boolean | undefined): { value?: unknown; problem?: string } {
  try {
    return { value: resolveParams([p], raw === undefined || raw === '' ? {} : { [p.name]: raw })[p.name] };
  } catch (err) {
    const m = /^invalid request: parameters: [^:]+: (.*)$/.exec((err as Error).message);
    return { problem: m?.[1] ?? (err as Error).message };
  }
}

describe('launch parameter checks: console and manager agree', () => {
  it.each(CASES)('%o given %o', (p, raw) => {
    const mine = checkParam(p, raw);
    const theirs = server(p, raw);
    if (mine.problem === undefined) expect(theirs).toEqual({ value: mine.value });
    else expect(theirs.problem?.startsWith(mine.problem), `manager said ${theirs.problem ?? `ok (${String(theirs.value)})`}`).toBe(true);
  });

  it('uses the same instance name rule', () => {
    for (const name of ['web1', 'a', 'a-b', '-a', 'a-', 'A', 'x'.repeat(63), 'x'.repeat(64), 'a_b']) {
      expect(checkInstanceName(name) === undefined, name).toBe(INSTANCE_NAME.test(name));
    }
  });
});
