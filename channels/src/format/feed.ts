/**
 * Reads a channel feed from untrusted bytes. The guarded parse checks structure (RSS 2.0, the
 * `storm` namespace, known and unrepeated storm fields); rss-parser, which ordinary readers use
 * too, extracts the values; every value is then checked.
 *
 * @example
 * verifyFeedSignature(feedBytes, sigBytes, pinnedPublicKeyPem);
 * const feed = await parseFeed(feedBytes);
 */
import Parser from 'rss-parser';
import { ChanErr } from '../errors.js';
import { itemGuid } from './feed-write.js';
import { compareVersions, isCleanText, isName, isSha256, isVersion, LIMITS, parseHttpUrl, parsePublished, parseSize } from './rules.js';
import { type ChannelFeed, FEED_NS, type FeedItem } from './types.js';
import type { Fail } from './xml-read.js';
import { parseXmlStrict, type XmlElement } from './xml-guard.js';

export const DEFAULT_MAX_FEED_BYTES = 8 * 1024 * 1024;

/** The storm fields of an item, as rss-parser custom fields (storm:x → stormX). */
const STORM_ITEM_FIELDS = ['name', 'version', 'upgradesFrom', 'descriptor', 'descriptorSize', 'descriptorSha256'] as const;
type StormKey = `storm${Capitalize<(typeof STORM_ITEM_FIELDS)[number]>}`;
const stormKey = (f: string): StormKey => `storm${f[0]?.toUpperCase()}${f.slice(1)}` as StormKey;
/** storm fields of the channel itself (storm:published → stormPublished). */
const STORM_CHANNEL_FIELDS = ['published'] as const;
/** RSS elements whose content must be plain text (no child elements). */
const TEXT_FIELDS = ['title', 'link', 'description', 'guid', 'pubDate', 'lastBuildDate'];

export interface ParseFeedOptions {
  /** Byte cap, checked before parsing. Default 8 MiB. */
  readonly maxBytes?: number;
}

export async function parseFeed(input: Uint8Array | string, opts: ParseFeedOptions = {}): Promise<ChannelFeed> {
  const fail: Fail = (m) => {
    throw ChanErr.CHAN_ERR_FEED_INVALID(m);
  };
  const root = parseXmlStrict(input, { what: 'feed', maxBytes: opts.maxBytes ?? DEFAULT_MAX_FEED_BYTES });
  const itemCount = checkStructure(root, fail);
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('utf8');
  const parser = new Parser<Record<string, unknown>, Partial<Record<StormKey, unknown>>>({
    customFields: { item: STORM_ITEM_FIELDS.map((f) => [`storm:${f}`, stormKey(f)]), feed: STORM_CHANNEL_FIELDS.map((f) => `storm:${f}`) },
  });
  let out: Awaited<ReturnType<typeof parser.parseString>>;
  try {
    out = await parser.parseString(text);
  } catch (err) {
    throw ChanErr.CHAN_ERR_FEED_INVALID(`rss-parser: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  if (out.items.length !== itemCount) fail(`rss-parser saw ${out.items.length} items, the document has ${itemCount}`);
  const items = out.items.map((it, i) => readItem(it as unknown as Record<string, unknown>, `/rss/channel/item[${i + 1}]`, fail));
  const seen = new Set<string>();
  for (const it of items) {
    const key = `${it.name} ${it.version}`;
    if (seen.has(key)) fail(`${it.name} ${it.version} appears twice`);
    seen.add(key);
  }
  const lastBuild = str(out['lastBuildDate'], '/rss/channel/lastBuildDate', fail, 100, true);
  const published = str(out['storm:published'], '/rss/channel/storm:published', fail, 40, true);
  if (published !== undefined && !parsePublished(published))
    fail(`/rss/channel/storm:published: ${JSON.stringify(published)} is not YYYY-MM-DDThh:mm:ssZ`);
  return {
    title: str(out.title, '/rss/channel/title', fail, LIMITS.titleLength) as string,
    link: url(out.link, '/rss/channel/link', fail),
    description: str(out.description, '/rss/channel/description', fail, LIMITS.textLength) as string,
    ...(lastBuild === undefined ? {} : { lastBuildDate: date(lastBuild, '/rss/channel/lastBuildDate', fail) }),
    ...(published === undefined ? {} : { published }),
    items,
  };
}

/** Checks what rss-parser does not: RSS 2.0, one channel, storm fields known, once each, plain text. */
function checkStructure(root: XmlElement, fail: Fail): number {
  if (root.uri !== '' || root.local !== 'rss' || root.attributes.get('version') !== '2.0') fail('root element must be <rss version="2.0">');
  const channels = root.children.filter((c) => c.uri === '' && c.local === 'channel');
  if (channels.length !== 1) fail(`expected one <channel>, found ${channels.length}`);
  const channel = channels[0] as XmlElement;
  const items = channel.children.filter((c) => c.uri === '' && c.local === 'item');
  if (items.length > LIMITS.items) fail(`more than ${LIMITS.items} items`);
  checkTextFields(channel, '/rss/channel', fail);
  const channelFields = new Set<string>();
  for (const c of channel.children) {
    if (c.uri !== FEED_NS) continue;
    if (!(STORM_CHANNEL_FIELDS as readonly string[]).includes(c.local)) fail(`/rss/channel: unknown element <${c.name}>`);
    if (channelFields.has(c.local)) fail(`/rss/channel: <${c.name}> appears twice`);
    channelFields.add(c.local);
    if (c.attributes.size || c.children.length) fail(`/rss/channel/${c.name}: must be plain text`);
  }
  items.forEach((item, i) => {
    const path = `/rss/channel/item[${i + 1}]`;
    checkTextFields(item, path, fail);
    const seen = new Set<string>();
    for (const c of item.children) {
      if (c.uri !== FEED_NS) continue;
      if (!(STORM_ITEM_FIELDS as readonly string[]).includes(c.local)) fail(`${path}: unknown element <${c.name}>`);
      if (seen.has(c.local)) fail(`${path}: <${c.name}> appears twice`);
      seen.add(c.local);
      if (c.attributes.size || c.children.length) fail(`${path}/${c.name}: must be plain text`);
    }
  });
  const placed = new Set([...channel.children, ...items.flatMap((it) => it.children)].filter((c) => c.uri === FEED_NS));
  walk(root, (el) => {
    // rss-parser keys fields by the prefix as written, so the storm namespace must use `storm:`.
    if ((el.uri === FEED_NS) !== el.name.startsWith('storm:'))
      fail(`line ${el.line}: <${el.name}>: the prefix storm must be bound to ${FEED_NS}, and only it`);
    if (el.uri === FEED_NS && !placed.has(el)) fail(`line ${el.line}: <${el.name}> is only allowed directly inside <channel> or <item>`);
  });
  return items.length;
}

function checkTextFields(el: XmlElement, path: string, fail: Fail): void {
  for (const local of TEXT_FIELDS) {
    const found = el.children.filter((c) => c.uri === '' && c.local === local);
    if (found.length > 1) fail(`${path}: <${local}> appears ${found.length} times`);
    if (found[0]?.children.length) fail(`${path}/${local}: must be plain text`);
  }
}

function walk(el: XmlElement, visit: (el: XmlElement) => void): void {
  visit(el);
  for (const c of el.children) walk(c, visit);
}

function readItem(it: Record<string, unknown>, path: string, fail: Fail): FeedItem {
  const s = (key: string, field: string, optional = false, max = 200): string | undefined =>
    str(it[key], `${path}/${field}`, fail, max, optional);
  const name = s(stormKey('name'), 'storm:name') as string;
  if (!isName(name)) fail(`${path}/storm:name: ${JSON.stringify(name)} is not a valid appliance name`);
  const version = s(stormKey('version'), 'storm:version') as string;
  if (!isVersion(version)) fail(`${path}/storm:version: ${JSON.stringify(version)} is not a valid version`);
  const at = `${path} (${name} ${version})`;
  const upgradesFrom = s(stormKey('upgradesFrom'), 'storm:upgradesFrom', true);
  if (upgradesFrom !== undefined && (!isVersion(upgradesFrom) || compareVersions(upgradesFrom, version) >= 0))
    fail(`${at}/storm:upgradesFrom: ${JSON.stringify(upgradesFrom)} is not a version older than ${version}`);
  const size = parseSize(s(stormKey('descriptorSize'), 'storm:descriptorSize') as string);
  if (size === undefined) fail(`${at}/storm:descriptorSize: not a size in bytes`);
  const sha256 = s(stormKey('descriptorSha256'), 'storm:descriptorSha256') as string;
  if (!isSha256(sha256)) fail(`${at}/storm:descriptorSha256: not 64 lowercase hex digits`);
  const guid = s('guid', 'guid') as string;
  if (guid !== itemGuid(name, version)) fail(`${at}/guid: expected ${itemGuid(name, version)}`);
  return {
    name,
    version,
    title: s('title', 'title', false, LIMITS.titleLength) as string,
    description: s('content', 'description', false, LIMITS.textLength) as string,
    pubDate: date(s('pubDate', 'pubDate', false) as string, `${at}/pubDate`, fail),
    guid,
    link: url(it['link'], `${at}/link`, fail),
    ...(upgradesFrom === undefined ? {} : { upgradesFrom }),
    descriptor: { url: url(it[stormKey('descriptor')], `${at}/storm:descriptor`, fail), size: size as number, sha256 },
  };
}

function str(v: unknown, path: string, fail: Fail, max: number, optional = false): string | undefined {
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string') return fail(`${path}: ${v === undefined ? 'missing' : 'must be plain text'}`);
  const t = v.trim();
  if (!isCleanText(t, max)) fail(`${path}: longer than ${max} characters or has control characters`);
  return t;
}

function url(v: unknown, path: string, fail: Fail): string {
  const s = str(v, path, fail, 2048) as string;
  return parseHttpUrl(s) ?? fail(`${path}: ${JSON.stringify(s)} is not an absolute http(s) URL`);
}

/** RFC 822 date (as RSS has it) to ISO 8601 UTC. */
function date(s: string, path: string, fail: Fail): string {
  const d = new Date(s);
  if (!/^[A-Za-z]{3}, \d{1,2} [A-Za-z]{3} \d{4} \d{2}:\d{2}(:\d{2})? ([A-Z]{1,3}|[+-]\d{4})$/.test(s) || Number.isNaN(d.getTime()))
    fail(`${path}: ${JSON.stringify(s)} is not an RFC 822 date`);
  return d.toISOString().replace('.000Z', 'Z');
}
