import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { APPLIANCES_DIR } from '../layers.js';
import { productionPackages, stageManagerBundle } from './manager-bundle.js';

const ROOT = join(APPLIANCES_DIR, '..');

describe('the storm-manager appliance payload', () => {
  it("takes the manager's runtime dependencies and their own, without sqlite3, libvirt's binding or dev tools", async () => {
    const names = (await productionPackages(ROOT)).map((d) => d.slice(join(ROOT, 'node_modules').length + 1));
    expect(names).toEqual(expect.arrayContaining(['fastify', 'ldapjs', 'node-forge', 'ws', 'typebox', 'avvio']));
    for (const absent of ['sqlite3', '@unraid/libvirt', 'node-addon-api', 'vitest', '@biomejs/biome', 'typescript', 'esbuild'])
      expect(names).not.toContain(absent);
  });

  it('refuses a checkout whose manager is not built', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'storm-bundle-'));
    try {
      await writeFile(join(dir, 'package.json'), '{"name":"x","version":"1.0.0"}');
      await expect(stageManagerBundle(dir, join(dir, 'b.tar'))).rejects.toThrow(/not built; run `npm run build`/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
