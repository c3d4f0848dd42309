import { describe, expect, it } from 'vitest';
import { checkPattern, checkTemplate, compareVersions, isName, isVersion, parseHttpUrl, parseReleased, parseSize } from './rules.js';

describe('format rules', () => {
  it('accepts safe names and semver versions only', () => {
    expect(['hello-web', 'a', 'tiny-os2'].every(isName)).toBe(true);
    expect(['Hello', '-a', '../x', 'a_b', 'a'.repeat(64), ''].some(isName)).toBe(false);
    expect(['1.0.0', '0.1.2-rc.1', '10.20.30'].every(isVersion)).toBe(true);
    expect(['1.0', '01.0.0', '1.0.0+build', '1.0.0/../x', 'v1.0.0'].some(isVersion)).toBe(false);
  });

  it('orders versions by semver precedence', () => {
    const sorted = ['1.0.0', '1.0.0-rc.1', '0.9.9', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-beta', '1.10.0', '1.2.0'].sort(compareVersions);
    expect(sorted).toEqual(['0.9.9', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-beta', '1.0.0-rc.1', '1.0.0', '1.2.0', '1.10.0']);
  });

  it('reads sizes as safe integers only', () => {
    expect(parseSize('0')).toBe(0);
    expect(parseSize('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
    for (const bad of ['9007199254740992', '-1', '1.5', '1e3', '0x10', '01', ' 1', '']) expect(parseSize(bad)).toBeUndefined();
  });

  it('accepts absolute http(s) URLs without credentials only', () => {
    expect(parseHttpUrl('https://ch.example/a b')).toBeUndefined();
    expect(parseHttpUrl('http://127.0.0.1:8080/x.xml')).toBe('http://127.0.0.1:8080/x.xml');
    for (const bad of ['file:///etc/passwd', 'javascript:alert(1)', '/relative', 'https://user:pw@h/', 'data:,x'])
      expect(parseHttpUrl(bad)).toBeUndefined();
  });

  it('reads released dates strictly', () => {
    expect(parseReleased('2024-02-29')?.toISOString()).toBe('2024-02-29T00:00:00.000Z');
    expect(parseReleased('2024-01-15T10:20:30Z')?.toISOString()).toBe('2024-01-15T10:20:30.000Z');
    for (const bad of ['2023-02-29', '2024-13-01', '2024-01-15T10:20:30+01:00', 'yesterday']) expect(parseReleased(bad)).toBeUndefined();
  });

  it('checks templates and patterns', () => {
    expect(checkTemplate('{{greeting}} at {{ instance.fqdn }}', ['greeting'])).toBeUndefined();
    expect(checkTemplate('{{nope}}', [])).toMatch(/names no parameter/);
    expect(checkTemplate('{{broken', [])).toMatch(/malformed/);
    expect(checkPattern('[a-z]+')).toBeUndefined();
    expect(checkPattern('(')).toMatch(/does not compile/);
    expect(checkPattern('a'.repeat(300))).toMatch(/longer than/);
    // Read by the linear-time engine: what needs backtracking is refused when the descriptor is read, saying why.
    expect(checkPattern('(a+)+')).toBeUndefined();
    expect(checkPattern('(a)\\1')).toMatch(
      /^pattern backreferences \(\\1, \\k<name>\) are not supported: they need a backtracking engine$/,
    );
    expect(checkPattern('a(?=b)')).toMatch(/^pattern lookahead and lookbehind .* are not supported/);
    expect(checkPattern('(a{50}){50}')).toMatch(/^pattern too complex: its repetitions need 2500 states/);
  });
});
