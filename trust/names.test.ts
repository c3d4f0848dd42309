import { describe, expect, it } from 'vitest';
import { parseAltName, parseAltNames, toForgeAltNames } from './names.js';

describe('certificate names', () => {
  it('classify addresses as IP SANs and lowercase DNS names', () => {
    expect(parseAltName('10.0.0.5')).toEqual({ kind: 'ip', value: '10.0.0.5' });
    expect(parseAltName('fd00::1')).toEqual({ kind: 'ip', value: 'fd00::1' });
    expect(parseAltName('Host-1.Example')).toEqual({ kind: 'dns', value: 'host-1.example' });
    expect(parseAltName('storm.local')).toEqual({ kind: 'dns', value: 'storm.local' });
  });

  it('refuse wildcards, empty labels, underscores, edge hyphens and over-long names', () => {
    for (const bad of [
      '',
      '*.example',
      'a..b',
      'under_score',
      '-a.example',
      'a-.example',
      'a b',
      `${'a'.repeat(64)}.example`,
      `${'a.'.repeat(127)}ab`,
      'host.example.',
    ]) {
      expect(() => parseAltName(bad), bad).toThrow(expect.objectContaining({ code: 'MGR_ERR_PKI_NAME_INVALID' }));
    }
  });

  it('keep the first name first and drop duplicates', () => {
    expect(parseAltNames(['b.example', '127.0.0.1', 'B.example']).map((n) => n.value)).toEqual(['b.example', '127.0.0.1']);
    expect(() => parseAltNames([])).toThrow(expect.objectContaining({ code: 'MGR_ERR_PKI_NAME_INVALID' }));
  });

  it("map to forge's GeneralName types", () => {
    expect(toForgeAltNames(parseAltNames(['a.example', '10.0.0.1']))).toEqual([
      { type: 2, value: 'a.example' },
      { type: 7, ip: '10.0.0.1' },
    ]);
  });
});
