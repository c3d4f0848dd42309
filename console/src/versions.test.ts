import { describe, expect, it } from 'vitest';
import { suggestName } from './launch/suggest-name.js';
import { columnsOf, rowsOf } from './pages/service-rows.js';
import { compareVersionsDesc } from './versions.js';

describe('console helpers', () => {
  it('orders versions newest first, a pre-release below its release', () => {
    expect(['1.0.0', '1.10.0', '1.2.0', '1.10.0-rc.1', '0.9.9'].sort(compareVersionsDesc)).toEqual([
      '1.10.0',
      '1.10.0-rc.1',
      '1.2.0',
      '1.0.0',
      '0.9.9',
    ]);
  });

  it('suggests the first free instance name', () => {
    expect(suggestName('hello-web', new Set())).toBe('hello-web-1');
    expect(suggestName('hello-web', new Set(['hello-web-1', 'hello-web-2']))).toBe('hello-web-3');
    expect(suggestName('x'.repeat(63), new Set())).toHaveLength(60);
  });

  it('reads any list answer and its columns, preferred ones first', () => {
    expect(rowsOf({ records: [{ a: 1 }] })).toEqual([{ a: 1 }]);
    expect(rowsOf([{ b: 2 }])).toEqual([{ b: 2 }]);
    expect(rowsOf({ total: 3 })).toEqual([]);
    expect(columnsOf([{ z: 1, ip: 2 }, { mac: 3 }], ['ip', 'mac', 'absent'])).toEqual(['ip', 'mac', 'z']);
  });
});
