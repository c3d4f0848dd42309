import { describe, expect, it } from 'vitest';
import { checkFeedOrder } from './feed-order.js';

const held = { published: '2024-04-01T00:00:00Z', sha256: 'a'.repeat(64) };

describe('feeds move forward only', () => {
  it('takes a later feed, the same feed again, and any first feed', () => {
    expect(() => checkFeedOrder(held, { published: '2024-04-02T00:00:00Z', sha256: 'b'.repeat(64) })).not.toThrow();
    expect(() => checkFeedOrder(held, { published: held.published, sha256: held.sha256 })).not.toThrow();
    expect(() => checkFeedOrder({ published: null, sha256: null }, { published: null, sha256: 'b'.repeat(64) })).not.toThrow();
  });

  it('refuses an older feed, and another feed of the same time', () => {
    expect(() => checkFeedOrder(held, { published: '2024-03-01T00:00:00Z', sha256: 'b'.repeat(64) })).toThrow(
      /published at 2024-03-01T00:00:00Z, before the feed held \(published at 2024-04-01T00:00:00Z\)/,
    );
    expect(() => checkFeedOrder(held, { published: held.published, sha256: 'b'.repeat(64) })).toThrow(/with a later time/);
  });

  it('takes an undated feed once: then only the same bytes, and never after a dated one', () => {
    const undated = { published: null, sha256: 'c'.repeat(64) };
    expect(() => checkFeedOrder(undated, { published: null, sha256: undated.sha256 })).not.toThrow();
    expect(() => checkFeedOrder(undated, { published: null, sha256: 'd'.repeat(64) })).toThrow(
      /carries no publication time.*rebuild it with storm-channel build/,
    );
    expect(() => checkFeedOrder(undated, { published: '2024-01-01T00:00:00Z', sha256: 'd'.repeat(64) })).not.toThrow();
    expect(() => checkFeedOrder(held, { published: null, sha256: 'd'.repeat(64) })).toThrow(
      /carries no publication time, but the feed held was published at 2024-04-01T00:00:00Z/,
    );
  });
});
