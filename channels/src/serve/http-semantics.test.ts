import { describe, expect, it } from 'vitest';
import { ifRangeHolds, noneMatch, parseRange, strongMatch } from './http-semantics.js';

describe('parseRange', () => {
  it.each([
    ['bytes=0-99', 1000, { kind: 'partial', start: 0, end: 99 }],
    ['bytes=500-', 1000, { kind: 'partial', start: 500, end: 999 }],
    ['bytes=-100', 1000, { kind: 'partial', start: 900, end: 999 }],
    ['bytes=-5000', 1000, { kind: 'partial', start: 0, end: 999 }],
    ['bytes=900-5000', 1000, { kind: 'partial', start: 900, end: 999 }],
    ['bytes=999-999', 1000, { kind: 'partial', start: 999, end: 999 }],
    ['bytes=1000-', 1000, { kind: 'unsatisfiable' }],
    ['bytes=5000-6000', 1000, { kind: 'unsatisfiable' }],
    ['bytes=-0', 1000, { kind: 'unsatisfiable' }],
    ['bytes=0-', 0, { kind: 'unsatisfiable' }],
    ['bytes=0-1,5-6', 1000, { kind: 'full' }],
    ['bytes=5-1', 1000, { kind: 'full' }],
    ['items=0-1', 1000, { kind: 'full' }],
    ['bytes=-', 1000, { kind: 'full' }],
    ['bytes=abc', 1000, { kind: 'full' }],
    ['bytes=99999999999999999999-', 1000, { kind: 'full' }],
  ])('%s of %d bytes', (header, size, expected) => {
    expect(parseRange(header, size)).toEqual(expected);
  });
});

describe('validators', () => {
  const etag = '"a-b-c"';
  it('compares If-None-Match weakly and If-Match strongly', () => {
    expect(noneMatch('W/"a-b-c"', etag)).toBe(true);
    expect(noneMatch('"x", "a-b-c"', etag)).toBe(true);
    expect(noneMatch('*', etag)).toBe(true);
    expect(noneMatch('"x"', etag)).toBe(false);
    expect(strongMatch('W/"a-b-c"', etag)).toBe(false);
    expect(strongMatch('"a-b-c"', etag)).toBe(true);
  });

  it('honours If-Range only on an exact strong tag or date', () => {
    const lm = 'Mon, 15 Jan 2024 00:00:00 GMT';
    expect(ifRangeHolds(undefined, etag, lm)).toBe(true);
    expect(ifRangeHolds(etag, etag, lm)).toBe(true);
    expect(ifRangeHolds('W/"a-b-c"', etag, lm)).toBe(false);
    expect(ifRangeHolds('"old"', etag, lm)).toBe(false);
    expect(ifRangeHolds(lm, etag, lm)).toBe(true);
    expect(ifRangeHolds('Tue, 16 Jan 2024 00:00:00 GMT', etag, lm)).toBe(false);
  });
});
