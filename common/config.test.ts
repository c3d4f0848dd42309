import { describe, expect, it } from 'vitest';
import Type from 'typebox';
import { ConfigError, parseHostPort, readOptions, renderHelp, validateConfig } from './config.js';

const Schema = Type.Object(
  {
    data: Type.String({ default: './data', minLength: 1 }),
    listen: Type.String({ default: '127.0.0.1:8443' }),
    verbose: Type.Boolean({ default: false }),
    allow: Type.Array(Type.String(), { default: [] }),
    retries: Type.Integer({ minimum: 0, default: 3 }),
  },
  { additionalProperties: false },
);
const sources = {
  data: { flag: 'data', env: 'T_DATA', arg: 'DIR', help: 'data folder' },
  listen: { flag: 'listen', env: 'T_LISTEN' },
  verbose: { flag: 'verbose', kind: 'boolean' as const },
  allow: { flag: 'allow', env: 'T_ALLOW', kind: 'list' as const },
  retries: { flag: 'retries', kind: 'integer' as const },
};

describe('config loading', () => {
  it('fills defaults and freezes', () => {
    const cfg = validateConfig(Schema, readOptions(sources, [], {}).values);
    expect(cfg).toEqual({ data: './data', listen: '127.0.0.1:8443', verbose: false, allow: [], retries: 3 });
    expect(Object.isFrozen(cfg)).toBe(true);
    expect(Object.isFrozen(cfg.allow)).toBe(true);
  });

  it('lets flags win over the environment', () => {
    const { values } = readOptions(sources, ['--data', '/a', '--allow', 'x', '--allow', 'y'], { T_DATA: '/b', T_LISTEN: '0.0.0.0:1' });
    expect(validateConfig(Schema, values)).toMatchObject({ data: '/a', listen: '0.0.0.0:1', allow: ['x', 'y'] });
  });

  it('splits list variables and reads integers', () => {
    const { values } = readOptions(sources, ['--retries', '7'], { T_ALLOW: 'a, b' });
    expect(values).toEqual({ allow: ['a', 'b'], retries: 7 });
  });

  it('rejects unknown flags, bad integers and schema violations with every problem listed', () => {
    expect(() => readOptions(sources, ['--nope'], {})).toThrow(ConfigError);
    expect(() => readOptions(sources, ['--retries', 'x'], {})).toThrow(/retries/);
    expect(() => validateConfig(Schema, { data: '' })).toThrow(/data/);
  });

  it('parses HOST:PORT including IPv6', () => {
    expect(parseHostPort('127.0.0.1:80', 'listen')).toEqual({ host: '127.0.0.1', port: 80 });
    expect(parseHostPort('[::1]:0', 'listen')).toEqual({ host: '::1', port: 0 });
    expect(() => parseHostPort('localhost', 'listen')).toThrow(/--listen/);
    expect(() => parseHostPort('h:70000', 'listen')).toThrow(ConfigError);
  });

  it('renders help with flags and env names', () => {
    expect(renderHelp('usage: x', 'does x', sources)).toMatch(/--data DIR\s+data folder \[env T_DATA\]/);
  });
});
