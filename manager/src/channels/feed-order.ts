/**
 * Feeds move forward only. A validly signed feed is still refused when it was published before the
 * one the manager holds (`storm:published`): an old feed replayed by a mirror or an attacker could
 * otherwise bring back versions the publisher withdrew. A feed without a publication time (built
 * before `storm:published` existed) is taken while the channel holds no feed or holds these very
 * bytes; a changed one is refused, since nothing tells it from an old one replayed.
 *
 * @example
 * checkFeedOrder({ published: row.feed_published, sha256: row.feed_sha256 }, { published: feed.published, sha256 });
 */
import { MgrErr } from '../errors.js';

export interface FeedMark {
  readonly published: string | null | undefined;
  readonly sha256: string | null;
}

const REBUILD = 'the publisher must rebuild it with storm-channel build, which writes storm:published';

/** Throws MGR_ERR_CHANNEL_REFUSED unless `incoming` may replace `held`. */
export function checkFeedOrder(held: FeedMark, incoming: FeedMark): void {
  if (held.sha256 === null || held.sha256 === incoming.sha256) return;
  const before = held.published ?? undefined;
  const now = incoming.published ?? undefined;
  if (now === undefined) {
    throw MgrErr.MGR_ERR_CHANNEL_REFUSED(
      before === undefined
        ? `the feed changed but carries no publication time, so it cannot be told from an older feed replayed; ${REBUILD}`
        : `the feed carries no publication time, but the feed held was published at ${before}: an older feed replayed; the catalog is unchanged`,
    );
  }
  if (before === undefined) return;
  const [t0, t1] = [Date.parse(before), Date.parse(now)];
  if (t1 < t0)
    throw MgrErr.MGR_ERR_CHANNEL_REFUSED(
      `the feed was published at ${now}, before the feed held (published at ${before}): an older feed replayed; the catalog is unchanged`,
    );
  if (t1 === t0)
    throw MgrErr.MGR_ERR_CHANNEL_REFUSED(
      `the feed was published at ${now}, as the feed held was, with other contents; the publisher must publish it with a later time (storm-channel build --published)`,
    );
}
