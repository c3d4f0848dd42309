import { describe, expect, it } from 'vitest';
import type { Parameter } from '../../channels/src/format/index.js';
import { UsageError } from './errors.js';
import { checkParams, parseParamFlags } from './params.js';

const declared: Parameter[] = [
  { name: 'greeting', type: 'string', default: 'Hello', pattern: '[A-Za-z ,!]{1,40}', description: 'What the page says.' },
  { name: 'port', type: 'integer', default: 80, min: 1, max: 65535, description: 'TCP port.' },
  { name: 'tls', type: 'boolean', description: 'Offer TLS.' },
];

describe('launch parameters', () => {
  it('reads KEY=VALUE flags; the value may hold =', () => {
    expect(parseParamFlags(['greeting=Hi', 'motd=a=b'])).toEqual({ greeting: 'Hi', motd: 'a=b' });
    expect(() => parseParamFlags(['greeting'])).toThrow(UsageError);
    expect(() => parseParamFlags(['=x'])).toThrow(UsageError);
    expect(() => parseParamFlags(['a=1', 'a=2'])).toThrow(/given twice/);
    expect(Object.getPrototypeOf(parseParamFlags(['__proto__=x']))).toBe(Object.prototype);
  });

  it('sends only what was given, as the declared types', () => {
    expect(checkParams(declared, { port: '8080', tls: 'true' }, 'app 1')).toEqual({ port: 8080, tls: true });
  });

  it('refuses by the manager’s rules, listing what the appliance takes', () => {
    expect(() => checkParams(declared, { greeting: '<b>', tls: 'true' }, 'app 1')).toThrow(/^app 1: parameters: greeting: must match/);
    expect(() => checkParams(declared, { port: '0', tls: 'yes' }, 'app 1')).toThrow(/port: must be at least 1; tls: must be true or false/);
    expect(() => checkParams(declared, {}, 'app 1')).toThrow(/tls: required/);
    expect(() => checkParams(declared, { nope: '1', tls: 'false' }, 'app 1')).toThrow(
      /nope: not a parameter[\s\S]*PARAMETER\s+TYPE\s+DEFAULT\s+RULE\s+DESCRIPTION\ngreeting\s+string\s+"Hello"\s+\/\[A-Za-z ,!\]\{1,40\}\//,
    );
  });
});
