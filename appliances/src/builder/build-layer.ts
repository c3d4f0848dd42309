/**
 * Builds one recipe's layer: a fresh upper directory (or a debootstrap root for an OS), each step
 * run in the stack of the layers beneath, the layer's marker, then the leftovers removed and the
 * upper directory — only it — packed into `<out>/layers/<name>.squashfs`. The scratch folder is
 * removed afterwards, success or not, once nothing is mounted in it.
 *
 * @example
 * await buildRecipeLayer(recipe, { out, lowers: [osImage], busybox: '/bin/busybox', log: console.log });
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApplErr } from '../errors.js';
import { aptScript, copyScript, debconfScript, deleteScript, runScript } from './actions.js';
import { copySource, stageCopy, stageMarker } from './copy-stage.js';
import { runDebootstrap } from './debootstrap.js';
import { packLayer, removeJunk, stageUpper } from './finalize.js';
import type { Recipe } from './recipe.js';
import type { RecipeStep } from './recipe-schema.js';
import { mountsUnder, runInStack, type StackAction, type StackSpec } from './stack.js';

export interface LayerBuildOptions {
  readonly out: string;
  /** Images beneath this layer, bottom → top (empty for an OS recipe). */
  readonly lowers: readonly string[];
  /** A static busybox (the host's busybox-static). */
  readonly busybox: string;
  readonly log: (line: string) => void;
  /** Debian mirror for debootstrap, when not the recipe's own. */
  readonly mirror?: string;
}

/** Where a recipe's image lands. */
export const layerImagePath = (out: string, name: string): string => join(out, 'layers', `${name}.squashfs`);
export const recipeLogPath = (out: string, name: string): string => join(out, 'logs', `${name}.log`);

const secs = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

function stepKind(step: RecipeStep): string {
  return Object.keys(step).find((k) => ['copy', 'run', 'apt', 'debconf', 'delete'].includes(k)) ?? '?';
}

async function stepAction(
  step: RecipeStep,
  recipe: Recipe,
  work: string,
  index: number,
  aptUpdated: boolean,
): Promise<StackAction | undefined> {
  const label = `${recipe.name} step ${index + 1}/${recipe.steps.length} (${stepKind(step)})`;
  if ('copy' in step) {
    const src = await copySource(step, recipe.dir);
    if (!src) return undefined;
    const stage = join(work, `copy-${index + 1}`);
    return { label, shell: 'busybox', script: copyScript(await stageCopy(step, src, stage)), src: stage };
  }
  if ('run' in step) return { label, shell: 'layer', script: runScript(step.run) };
  if ('apt' in step) return { label, shell: 'layer', script: aptScript(step.apt, { update: !aptUpdated }), timeoutMs: 60 * 60_000 };
  if ('debconf' in step) return { label, shell: 'layer', script: debconfScript(step.debconf) };
  return { label, shell: 'busybox', script: deleteScript(step.delete) };
}

async function runSteps(recipe: Recipe, spec: StackSpec, work: string, log: (line: string) => void): Promise<void> {
  let aptUpdated = false;
  for (const [i, step] of recipe.steps.entries()) {
    const action = await stepAction(step, recipe, work, i, aptUpdated);
    if (!action) {
      log(
        `  ${recipe.name} step ${i + 1}/${recipe.steps.length} (copy): skipped, optional source ${'copy' in step ? step.copy : ''} is absent`,
      );
      continue;
    }
    const started = Date.now();
    await runInStack(spec, action);
    if ('apt' in step) aptUpdated = true;
    log(`  ${action.label}: ${secs(Date.now() - started)}`);
  }
  const marker = join(work, 'marker');
  await runInStack(spec, {
    label: `${recipe.name} marker`,
    shell: 'busybox',
    script: copyScript(await stageMarker(recipe, marker)),
    src: marker,
  });
}

export async function buildRecipeLayer(recipe: Recipe, opts: LayerBuildOptions): Promise<string> {
  const work = join(opts.out, '.work', `recipe-${recipe.name}`);
  const logFile = recipeLogPath(opts.out, recipe.name);
  if ((await mountsUnder(work)).length) throw ApplErr.APPL_ERR_STACK(`${work} still has mounts; unmount them before building`);
  await rm(work, { recursive: true, force: true });
  await mkdir(join(work, 'upper'), { recursive: true, mode: 0o755 });
  await mkdir(join(opts.out, 'logs'), { recursive: true });
  await writeFile(logFile, `# ${recipe.name} ${recipe.version} (${recipe.file})\n`);
  const cache = join(opts.out, 'cache', 'debian');
  const aptCache = { archives: join(cache, 'apt', 'archives'), lists: join(cache, 'apt', 'lists') };
  for (const d of [aptCache.archives, aptCache.lists]) await mkdir(join(d, 'partial'), { recursive: true });
  const spec: StackSpec = {
    dir: work,
    lowers: opts.lowers,
    upper: join(work, 'upper'),
    epoch: recipe.epoch,
    busybox: opts.busybox,
    aptCache,
    logFile,
  };
  const image = layerImagePath(opts.out, recipe.name);
  try {
    if (recipe.base.type === 'debootstrap') {
      const started = Date.now();
      await runDebootstrap(recipe.base, spec.upper, {
        cacheDir: join(cache, 'debootstrap'),
        logFile,
        epoch: recipe.epoch,
        ...(opts.mirror ? { mirror: opts.mirror } : {}),
      });
      opts.log(`  ${recipe.name} debootstrap ${recipe.base.suite}: ${secs(Date.now() - started)}`);
    }
    await runSteps(recipe, spec, work, opts.log);
    await removeJunk(spec.upper, { whole: opts.lowers.length === 0 });
    await stageUpper(spec.upper, join(work, 'stage'));
    await packLayer(join(work, 'stage'), image, recipe.epoch);
  } finally {
    // Never rm -rf through a mount; every mount lived in a namespace that is gone by now.
    const left = await mountsUnder(work);
    if (left.length) opts.log(`  ${recipe.name}: warning: ${left.length} mount(s) left under ${work}; not removing it`);
    else await rm(work, { recursive: true, force: true });
  }
  return image;
}
