import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplErr } from '../errors.js';
import { APPLIANCES_DIR } from '../layers.js';
import { DEFAULT_EPOCH, loadRecipe, recipeChain } from './recipe.js';

const OS = {
  name: 'base-os',
  version: '1.0.0',
  kind: 'os',
  base: { debootstrap: { suite: 'bookworm', mirror: 'http://deb.debian.org/debian' } },
  steps: [],
};
const APP = {
  name: 'app',
  version: '1.2.3',
  kind: 'appliance',
  base: { recipe: '../base-os' },
  steps: [
    { apt: ['nginx'] },
    { run: ['a', 'b'] },
    { copy: 'files', to: '/srv/' },
    { delete: ['/etc/motd'] },
    { debconf: ['postfix postfix/main_mailer_type select No configuration'] },
  ],
  channel: { title: 'App', description: 'd', released: '2026-11-21', memoryMiB: 64, vcpus: 1 },
};

describe('loadRecipe', () => {
  let dir: string;
  const put = async (name: string, recipe: unknown): Promise<string> => {
    await mkdir(join(dir, name), { recursive: true });
    await writeFile(join(dir, name, 'recipe.json'), typeof recipe === 'string' ? recipe : JSON.stringify(recipe));
    return join(dir, name);
  };
  const problem = async (recipe: unknown): Promise<string> => {
    const err = await loadRecipe(await put('bad', recipe)).catch((e: unknown) => e);
    expect(ApplErr.APPL_ERR_RECIPE_INVALID.is(err)).toBe(true);
    return (err as Error).message;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'recipe-test-'));
    await put('base-os', OS);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads a stack bottom to top, resolving paths and the epoch', async () => {
    const app = await loadRecipe(await put('app', APP));
    expect(recipeChain(app).map((r) => `${r.kind}:${r.name}`)).toEqual(['os:base-os', 'appliance:app']);
    expect(app.steps).toHaveLength(5);
    expect(app.epoch).toBe(Date.UTC(2026, 10, 21) / 1000);
    const os = recipeChain(app)[0];
    expect(os?.base).toEqual({
      type: 'debootstrap',
      suite: 'bookworm',
      variant: 'minbase',
      mirror: 'http://deb.debian.org/debian',
      include: [],
      components: ['main'],
    });
    expect(os?.epoch).toBe(DEFAULT_EPOCH);
    // Channel defaults are filled in, as storm-channel would.
    expect(app.channel).toMatchObject({ parameters: [], config: [], records: [] });
  });

  it('loads the shipped recipes', async () => {
    for (const name of ['nginx-web', 'postfix-mail', 'ssh-kerberos', 'storm-manager']) {
      const r = await loadRecipe(join(APPLIANCES_DIR, 'recipes', name));
      expect(recipeChain(r).map((x) => x.name)).toEqual(['debian-jeos', name]);
      expect(r.channel?.title).toBeTruthy();
    }
    const postfix = await loadRecipe(join(APPLIANCES_DIR, 'recipes/postfix-mail'));
    expect(postfix.channel?.records).toEqual([{ type: 'MX', name: '@', value: '{{instance.fqdn}}', priority: 10 }]);
  });

  it('names the field of every problem', async () => {
    expect(await problem({ ...APP, steps: [{ apt: ['nginx'], run: 'x' }] })).toMatch(
      /\/steps\/0: must be an object with exactly one of copy, run, apt, debconf, delete/,
    );
    expect(await problem({ ...APP, steps: [{ apt: ['Bad Name'] }] })).toMatch(/\/steps\/0\/apt\/0: /);
    expect(await problem({ ...APP, steps: [{ delete: ['relative/path'] }] })).toMatch(/\/steps\/0\/delete\/0: /);
    for (const bad of ['/etc/../etc/passwd', '/etc/./x', '/..', '/', '/etc/pass wd', "/etc/'x"]) {
      expect(await problem({ ...APP, steps: [{ delete: [bad] }] }), bad).toMatch(/\/steps\/0\/delete\/0: /);
    }
    expect(
      (
        await loadRecipe(
          await put('ok-paths', { ...APP, name: 'ok-paths', steps: [{ delete: ['/etc/.hidden', '/a..b/c'] }, { copy: 'files', to: '/' }] }),
        )
      ).steps,
    ).toHaveLength(2);
    expect(await problem({ ...APP, steps: [{ copy: 'f', mode: '0644' }] })).toMatch(/\/steps\/0: unknown field\(s\) "mode"/);
    expect(await problem({ ...APP, extra: 1 })).toMatch(/\/: unknown field\(s\) "extra"/);
    expect(await problem({ ...APP, channel: { ...APP.channel, memoryMiB: 1 } })).toMatch(/\/channel\/memoryMiB: /);
    expect(await problem({ ...APP, base: { recipe: '../base-os', layer: 'x' } })).toMatch(
      /\/base: must be an object with exactly one of debootstrap, recipe, layer/,
    );
    expect(await problem('{ not json')).toMatch(/not JSON/);
  });

  it('refuses stacks that cannot be: an os on a recipe, an appliance on a deployment, a loop, a name twice', async () => {
    expect(await problem({ ...OS, base: { recipe: '../base-os' } })).toMatch(/an os recipe starts from debootstrap/);
    expect(await problem({ ...APP, base: OS.base })).toMatch(/an os recipe starts from debootstrap, and only an os recipe does/);
    await put('deploy', { ...APP, name: 'deploy', kind: 'deployment', base: { recipe: '../app' } });
    expect(await problem({ ...APP, name: 'on-deploy', base: { recipe: '../deploy' } })).toMatch(
      /kind appliance cannot stack on deploy \(kind deployment\)/,
    );
    expect(await problem({ ...APP, name: 'base-os' })).toMatch(/base-os already names a layer beneath it/);
    await put('loop-a', { ...APP, name: 'loop-a', base: { recipe: '../loop-b' } });
    await put('loop-b', { ...APP, name: 'loop-b', base: { recipe: '../loop-a' } });
    await expect(loadRecipe(join(dir, 'loop-a'))).rejects.toThrow(/in a loop/);
    await expect(loadRecipe(join(dir, 'missing'))).rejects.toThrow(/cannot read/);
  });

  it('takes an OS layer built elsewhere as a base', async () => {
    const r = await loadRecipe(
      await put('on-file', { ...APP, name: 'on-file', base: { layer: '../os.squashfs', kernel: '../vmlinuz', initrd: '../initrd.img' } }),
    );
    expect(r.base).toEqual({
      type: 'layer',
      layer: join(dir, 'os.squashfs'),
      kernel: join(dir, 'vmlinuz'),
      initrd: join(dir, 'initrd.img'),
    });
    expect(recipeChain(r)).toHaveLength(1);
  });
});
