/**
 * When a build publishes its feed (`storm:published`): subscribers refuse a feed older than the one
 * they hold, so each publication must move forward. In order: the time the publisher gives
 * (`--published`, else `SOURCE_DATE_EPOCH` for reproducible builds); the time of the feed already
 * in the output folder when this build renders the very same feed (an unchanged rebuild stays
 * byte-identical); else now, and never less than a second after that earlier feed.
 *
 * @example
 * const published = await publicationTime({ out, given: opts.published, render: (p) => renderFeed({ ...feed, published: p }, url) });
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ChanErr } from '../errors.js';
import { parsePublished } from '../format/rules.js';

export interface PublicationInput {
  readonly out: string;
  readonly feedFile: string;
  /** What the publisher asked for: ISO 8601 UTC (`2024-02-01T12:00:00Z`). */
  readonly given?: string;
  /** `SOURCE_DATE_EPOCH` (seconds), the reproducible-builds convention. */
  readonly sourceDateEpoch?: string;
  readonly now?: () => Date;
  /** The feed's bytes with a given publication time. */
  readonly render: (published: string) => Buffer;
}

/** Whole seconds, UTC, `Z`: how `storm:published` is written. */
export const formatPublished = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export async function publicationTime(input: PublicationInput): Promise<string> {
  if (input.given !== undefined) {
    const d = parsePublished(input.given);
    if (!d) throw ChanErr.CHAN_ERR_PUBLISHED_INVALID(`${JSON.stringify(input.given)}: expected YYYY-MM-DDThh:mm:ssZ`);
    return formatPublished(d);
  }
  if (input.sourceDateEpoch !== undefined && input.sourceDateEpoch !== '') {
    const seconds = Number(input.sourceDateEpoch);
    if (!Number.isSafeInteger(seconds) || seconds < 0)
      throw ChanErr.CHAN_ERR_PUBLISHED_INVALID(
        `SOURCE_DATE_EPOCH=${JSON.stringify(input.sourceDateEpoch)}: expected whole seconds since 1970`,
      );
    return formatPublished(new Date(seconds * 1000));
  }
  const existing = await readFile(join(input.out, input.feedFile)).catch(() => undefined);
  const earlier = existing ? /<storm:published>([^<]{1,40})<\/storm:published>/.exec(existing.toString('utf8'))?.[1] : undefined;
  const previous = earlier === undefined ? undefined : parsePublished(earlier);
  const now = new Date(Math.floor((input.now ?? (() => new Date()))().getTime() / 1000) * 1000);
  if (!previous || !existing) return formatPublished(now);
  if (input.render(formatPublished(previous)).equals(existing)) return formatPublished(previous);
  return formatPublished(new Date(Math.max(now.getTime(), previous.getTime() + 1000)));
}
