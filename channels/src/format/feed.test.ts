import Parser from 'rss-parser';
import { describe, expect, it } from 'vitest';
import { parseFeed } from './feed.js';
import { itemGuid, renderFeed } from './feed-write.js';
import { BILLION_LAUGHS, CONSTRUCTOR_ELEMENT, PROTO_ATTRIBUTE, PROTO_ELEMENT, XXE } from './hostile.js';
import type { ChannelFeed, FeedItem } from './types.js';

const item = (version: string, extra: Partial<FeedItem> = {}): FeedItem => ({
  name: 'hello-web',
  version,
  title: `Hello web ${version}`,
  description: 'Says hello & more <b>bold</b>',
  pubDate: '2024-02-01T00:00:00Z',
  guid: itemGuid('hello-web', version),
  link: `https://ch.example/appliances/hello-web/${version}/appliance.xml`,
  descriptor: { url: `https://ch.example/appliances/hello-web/${version}/appliance.xml`, size: 1234, sha256: 'f'.repeat(64) },
  ...extra,
});
const feed: ChannelFeed = {
  title: 'Test channel',
  link: 'https://ch.example/',
  description: 'Appliances for tests',
  lastBuildDate: '2024-02-01T00:00:00Z',
  published: '2024-02-03T10:20:30Z',
  items: [item('1.1.0', { upgradesFrom: '1.0.0' }), item('1.0.0', { pubDate: '2024-01-15T00:00:00Z' })],
};
const xml = (): string => renderFeed(feed, 'https://ch.example/channel.xml').toString('utf8');
const failure = async (doc: string): Promise<{ code?: string; message: string }> => {
  try {
    await parseFeed(doc);
  } catch (err) {
    return err as { code?: string; message: string };
  }
  throw new Error('expected parseFeed to fail');
};

describe('parseFeed', () => {
  it('reads back exactly what renderFeed wrote', async () => {
    expect(await parseFeed(Buffer.from(xml()))).toEqual(feed);
  });

  it('reads a feed without a publication time (built before storm:published)', async () => {
    const { published: _, ...undated } = feed;
    expect((await parseFeed(renderFeed(undated, 'https://ch.example/channel.xml'))).published).toBeUndefined();
  });

  it('is an ordinary RSS 2.0 feed to rss-parser', async () => {
    const out = await new Parser().parseString(xml());
    expect(out.title).toBe('Test channel');
    expect(out.items[0]).toMatchObject({
      title: 'Hello web 1.1.0',
      guid: itemGuid('hello-web', '1.1.0'),
      isoDate: '2024-02-01T00:00:00.000Z',
    });
    expect(out.items[0]?.link).toMatch(/appliance\.xml$/);
  });

  it.each([
    ['a bad sha256', '<storm:descriptorSha256>ffff', '<storm:descriptorSha256>zzzz', /storm:descriptorSha256: not 64 lowercase hex/],
    ['a float size', '<storm:descriptorSize>1234<', '<storm:descriptorSize>12.5<', /storm:descriptorSize: not a size/],
    ['a missing version', '<storm:version>1.1.0</storm:version>', '', /storm:version: missing/],
    ['an unsafe name', '<storm:name>hello-web</storm:name>', '<storm:name>Hello Web</storm:name>', /not a valid appliance name/],
    [
      'a non-http descriptor URL',
      '<storm:descriptor>https://ch.example/appliances/hello-web/1.1.0',
      '<storm:descriptor>ftp://ch.example/appliances/hello-web/1.1.0',
      /storm:descriptor: .* not an absolute http\(s\) URL/,
    ],
    [
      'an unknown storm field',
      '<storm:version>1.1.0</storm:version>',
      '<storm:version>1.1.0</storm:version><storm:evil>x</storm:evil>',
      /unknown element <storm:evil>/,
    ],
    [
      'a repeated storm field',
      '<storm:version>1.1.0</storm:version>',
      '<storm:version>1.1.0</storm:version><storm:version>9.0.0</storm:version>',
      /appears twice/,
    ],
    ['a storm field with markup', '<storm:name>hello-web</storm:name>', '<storm:name>hello-web<b/></storm:name>', /must be plain text/],
    [
      'another prefix for the storm namespace',
      '<storm:name>hello-web</storm:name>',
      '<s:name xmlns:s="urn:storm:channel:1">hello-web</s:name>',
      /prefix storm must be bound/,
    ],
    [
      'the storm prefix bound elsewhere',
      '<storm:name>hello-web</storm:name>',
      '<storm:name xmlns:storm="urn:evil">hello-web</storm:name>',
      /prefix storm must be bound/,
    ],
    [
      'a wrong guid',
      '<guid isPermaLink="false">urn:storm:appliance:hello-web:1.1.0',
      '<guid isPermaLink="false">urn:other',
      /guid: expected/,
    ],
    ['a bad pubDate', '<pubDate>Thu, 01 Feb 2024 00:00:00 GMT', '<pubDate>yesterday', /pubDate: "yesterday" is not an RFC 822 date/],
    [
      'a publication time not to the second in UTC',
      '<storm:published>2024-02-03T10:20:30Z',
      '<storm:published>2024-02-03T10:20:30+01:00',
      /storm:published: "2024-02-03T10:20:30\+01:00" is not YYYY-MM-DDThh:mm:ssZ/,
    ],
    [
      'two publication times',
      '<storm:published>2024-02-03T10:20:30Z</storm:published>',
      '<storm:published>2024-02-03T10:20:30Z</storm:published><storm:published>2030-01-01T00:00:00Z</storm:published>',
      /<storm:published> appears twice/,
    ],
    [
      'a publication time inside an item',
      '<storm:version>1.1.0</storm:version>',
      '<storm:version>1.1.0</storm:version><storm:published>2030-01-01T00:00:00Z</storm:published>',
      /unknown element <storm:published>/,
    ],
    ['upgradesFrom not older', '<storm:upgradesFrom>1.0.0<', '<storm:upgradesFrom>1.1.0<', /upgradesFrom: "1.1.0" is not a version older/],
    ['RSS 0.91', '<rss version="2.0"', '<rss version="0.91"', /root element must be <rss version="2.0">/],
  ])('rejects %s', async (_label, from, to, pattern) => {
    const doc = xml();
    expect(doc).toContain(from);
    const err = await failure(doc.replace(from, to));
    expect(err.code).toBe('CHAN_ERR_FEED_INVALID');
    expect(err.message).toMatch(pattern);
  });

  it('rejects a version listed twice', async () => {
    const doc = renderFeed({ ...feed, items: [item('1.0.0'), item('1.0.0')] }, 'https://ch.example/channel.xml');
    expect((await failure(doc.toString())).message).toMatch(/hello-web 1.0.0 appears twice/);
  });

  it('rejects a feed over the byte cap before parsing', async () => {
    await expect(parseFeed(xml(), { maxBytes: 100 })).rejects.toMatchObject({ code: 'CHAN_ERR_TOO_LARGE' });
  });

  it.each([
    ['billion laughs', BILLION_LAUGHS],
    ['XXE', XXE],
    ['a __proto__ element', PROTO_ELEMENT],
    ['a __proto__ attribute', PROTO_ATTRIBUTE],
    ['constructor/prototype elements', CONSTRUCTOR_ELEMENT],
  ])('refuses %s, and Object.prototype stays clean', async (_label, doc) => {
    await expect(parseFeed(doc)).rejects.toMatchObject({ code: 'CHAN_ERR_XML_FORBIDDEN' });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  // What our guard stands in front of: rss-parser (xml2js over sax) on its own.
  describe('rss-parser without the guard', () => {
    it('leaves Object.prototype alone on __proto__ payloads (xml2js defines own properties)', async () => {
      for (const doc of [PROTO_ELEMENT, PROTO_ATTRIBUTE, CONSTRUCTOR_ELEMENT]) await new Parser().parseString(doc).catch(() => undefined);
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    });

    it('does not expand internal entities (sax knows only the predefined five)', async () => {
      const out = await new Parser().parseString(BILLION_LAUGHS).catch((err: Error) => err);
      const title = out instanceof Error ? '' : String(out.title ?? '');
      expect(title.length).toBeLessThan(100);
    });
  });
});
