import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { APPLIANCES_DIR } from '../layers.js';
import { bundleManager, productionPackages, stageManagerBundle } from './manager-bundle.js';

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

  it('bundles the built manager into one module that runs, importing only Node, sqlite3 and an on-demand chunk', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'storm-bundle-'));
    try {
      await writeFile(join(dir, 'package.json'), '{"name":"storm","version":"1.0.0","type":"module"}');
      await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
      const out = join(dir, 'dist', 'manager', 'src');
      await mkdir(out, { recursive: true });
      await bundleManager(ROOT, join(out, 'main.js'));
      const main = await readFile(join(out, 'main.js'), 'utf8');
      // Static imports left in main.js: Node's own modules, sqlite3, and chunks beside it; nothing from dist/ or node_modules.
      const imported = [...main.matchAll(/^import .*? from ["']([^"']+)["'];?$/gm)].map((m) => m[1] ?? '');
      expect(imported.filter((s) => !/^node:|^sqlite3$|^\.\/chunk-[\w-]+\.js$/.test(s))).toEqual([]);
      expect((await readdir(out)).every((f) => f.endsWith('.js'))).toBe(true);
      const { stdout } = await promisify(execFile)(process.execPath, [join(out, 'main.js'), '--help'], { cwd: dir });
      expect(stdout).toMatch(/^usage: storm-manager /);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
