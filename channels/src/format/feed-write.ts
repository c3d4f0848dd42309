/** Renders the channel feed: RSS 2.0 with the `storm` namespace; byte-stable for the same input. */
import { create } from 'xmlbuilder2';
import { finish } from './descriptor-write.js';
import { type ChannelFeed, FEED_NS } from './types.js';

export const ATOM_NS = 'http://www.w3.org/2005/Atom';

/** The guid of an appliance version; stable across rebuilds and hosts. */
export const itemGuid = (name: string, version: string): string => `urn:storm:appliance:${name}:${version}`;

/** RFC 822 date as RSS 2.0 wants it, from an ISO 8601 string. */
export const rfc822 = (iso: string): string => new Date(iso).toUTCString();

/**
 * @param feed the channel; items are written in the order given
 * @param selfUrl the feed's own URL, for `<atom:link rel="self">`
 */
export function renderFeed(feed: ChannelFeed, selfUrl: string): Buffer {
  const doc = create({ version: '1.0', encoding: 'UTF-8' });
  const rss = doc.ele('rss', { version: '2.0', 'xmlns:storm': FEED_NS, 'xmlns:atom': ATOM_NS });
  const ch = rss.ele('channel');
  ch.ele('title').txt(feed.title);
  ch.ele('link').txt(feed.link);
  ch.ele('description').txt(feed.description);
  if (feed.lastBuildDate !== undefined) ch.ele('lastBuildDate').txt(rfc822(feed.lastBuildDate));
  ch.ele('generator').txt('storm-channel');
  if (feed.published !== undefined) ch.ele(FEED_NS, 'storm:published').txt(feed.published);
  ch.ele(ATOM_NS, 'atom:link', { href: selfUrl, rel: 'self', type: 'application/rss+xml' });
  for (const it of feed.items) {
    const item = ch.ele('item');
    item.ele('title').txt(it.title);
    item.ele('link').txt(it.link);
    item.ele('description').txt(it.description);
    item.ele('guid', { isPermaLink: 'false' }).txt(it.guid);
    item.ele('pubDate').txt(rfc822(it.pubDate));
    item.ele(FEED_NS, 'storm:name').txt(it.name);
    item.ele(FEED_NS, 'storm:version').txt(it.version);
    if (it.upgradesFrom !== undefined) item.ele(FEED_NS, 'storm:upgradesFrom').txt(it.upgradesFrom);
    item.ele(FEED_NS, 'storm:descriptor').txt(it.descriptor.url);
    item.ele(FEED_NS, 'storm:descriptorSize').txt(String(it.descriptor.size));
    item.ele(FEED_NS, 'storm:descriptorSha256').txt(it.descriptor.sha256);
  }
  return finish(doc);
}
