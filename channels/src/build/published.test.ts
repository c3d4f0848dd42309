import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publicationTime } from './published.js';

let out: string;
beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'storm-published-'));
});
afterAll(() => rm(out, { recursive: true, force: true }));

const render = (body: string) => (published: string) =>
  Buffer.from(`<channel><storm:published>${published}</storm:published>${body}</channel>`);
const at = (iso: string) => () => new Date(iso);

describe('publicationTime', () => {
  it('takes what the publisher gives, else SOURCE_DATE_EPOCH', async () => {
    expect(await publicationTime({ out, feedFile: 'none.xml', given: '2024-02-01T12:00:00Z', render: render('') })).toBe(
      '2024-02-01T12:00:00Z',
    );
    expect(await publicationTime({ out, feedFile: 'none.xml', sourceDateEpoch: '1706788800', render: render('') })).toBe(
      '2024-02-01T12:00:00Z',
    );
    await expect(publicationTime({ out, feedFile: 'none.xml', given: '2024-02-01 12:00', render: render('') })).rejects.toMatchObject({
      code: 'CHAN_ERR_PUBLISHED_INVALID',
    });
    await expect(publicationTime({ out, feedFile: 'none.xml', sourceDateEpoch: 'soon', render: render('') })).rejects.toMatchObject({
      code: 'CHAN_ERR_PUBLISHED_INVALID',
    });
  });

  it('is now, to the second, for a first build', async () => {
    expect(await publicationTime({ out, feedFile: 'none.xml', now: at('2024-06-01T10:00:00.789Z'), render: render('') })).toBe(
      '2024-06-01T10:00:00Z',
    );
  });

  it('keeps the earlier time for the same feed, and moves past it for another, even when the clock lags', async () => {
    await writeFile(join(out, 'channel.xml'), render('one')('2024-06-01T10:00:00Z'));
    expect(await publicationTime({ out, feedFile: 'channel.xml', now: at('2024-07-01T00:00:00Z'), render: render('one') })).toBe(
      '2024-06-01T10:00:00Z',
    );
    expect(await publicationTime({ out, feedFile: 'channel.xml', now: at('2024-07-01T00:00:00Z'), render: render('two') })).toBe(
      '2024-07-01T00:00:00Z',
    );
    expect(await publicationTime({ out, feedFile: 'channel.xml', now: at('2024-05-01T00:00:00Z'), render: render('two') })).toBe(
      '2024-06-01T10:00:01Z',
    );
  });
});
