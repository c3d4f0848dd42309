/** Keeps docs/channel-format.md true: its examples parse with the real readers and schema. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Value from 'typebox/value';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../common/version.js';
import { manifestProblems, ManifestSchema, type Manifest } from '../build/manifest.js';
import { parseDescriptor } from './descriptor.js';
import { parseFeed } from './feed.js';

const blocks = async (lang: string): Promise<string[]> => {
  const md = await readFile(join(PROJECT_ROOT, 'docs/channel-format.md'), 'utf8');
  return [...md.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, 'g'))].map((m) => m[1] as string);
};

describe('docs/channel-format.md examples', () => {
  it('has a feed and a descriptor that the readers accept', async () => {
    const [feed, descriptor] = await blocks('xml');
    expect((await parseFeed(feed as string)).items[0]?.upgradesFrom).toBe('1.0.0');
    expect(parseDescriptor(descriptor as string).layers.map((l) => l.kind)).toEqual(['os', 'appliance', 'deployment']);
  });

  it('has a manifest that the schema accepts', async () => {
    const [json] = await blocks('json');
    const manifest = Value.Default(ManifestSchema, JSON.parse(json as string));
    expect(Value.Check(ManifestSchema, manifest)).toBe(true);
    expect(manifestProblems(manifest as Manifest)).toEqual([]);
  });
});
