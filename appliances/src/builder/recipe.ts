/**
 * Loads a recipe (`recipe.json`, or the folder holding it), checks it field by field, resolves its
 * paths and loads the recipes beneath it, so a build sees the whole stack bottom → top.
 *
 * @example
 * const nginx = await loadRecipe('appliances/recipes/nginx-web');
 * recipeChain(nginx).map((r) => r.name); // ['debian-jeos', 'nginx-web']
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { TSchema } from 'typebox';
import Value from 'typebox/value';
import { schemaProblems } from '../../../channels/src/build/manifest.js';
import { parseReleased, type LayerKind } from '../../../channels/src/format/rules.js';
import { ApplErr } from '../errors.js';
import { BASE_SCHEMAS, ChannelPart, RecipeHead, STEP_SCHEMAS, type RecipeStep, type StepKind } from './recipe-schema.js';

export const RECIPE_FILE = 'recipe.json';
/** SOURCE_DATE_EPOCH when a recipe names none and has no release date: 2025-05-20T00:00:00Z. */
export const DEFAULT_EPOCH = 1_747_699_200;

export interface DebootstrapSpec {
  readonly type: 'debootstrap';
  readonly suite: string;
  readonly variant: 'minbase' | 'buildd';
  readonly mirror: string;
  readonly include: readonly string[];
  readonly components: readonly string[];
}
export type ResolvedBase =
  | DebootstrapSpec
  | { readonly type: 'recipe'; readonly recipe: Recipe }
  | { readonly type: 'layer'; readonly layer: string; readonly kernel: string; readonly initrd: string };

export interface Recipe {
  /** The recipe's folder; relative paths in it resolve from here. */
  readonly dir: string;
  readonly file: string;
  readonly name: string;
  readonly version: string;
  readonly kind: LayerKind;
  readonly description: string | undefined;
  readonly epoch: number;
  readonly base: ResolvedBase;
  readonly steps: readonly RecipeStep[];
  readonly channel: ChannelPart | undefined;
}

const KIND_ORDER: Record<LayerKind, number> = { os: 0, appliance: 1, deployment: 2 };

function check<S extends TSchema>(schema: S, value: unknown, at: string, problems: string[]): boolean {
  const withDefaults = Value.Default(schema, structuredClone(value));
  if (Value.Check(schema, withDefaults)) return true;
  // schemaProblems says `/field: message`, or `/: message` for the object itself.
  problems.push(...schemaProblems(schema, withDefaults).map((p) => (p.startsWith('/:') ? `${at || '/'}${p.slice(1)}` : `${at}${p}`)));
  return false;
}

/** The one key of `value` that names a variant in `schemas`, or a problem. */
function variantOf<K extends string>(schemas: Record<K, TSchema>, value: unknown, at: string, problems: string[]): K | undefined {
  const keys = value && typeof value === 'object' && !Array.isArray(value) ? Object.keys(value).filter((k) => k in schemas) : [];
  if (keys.length === 1 && keys[0]) return keys[0] as K;
  problems.push(`${at}: must be an object with exactly one of ${Object.keys(schemas).join(', ')}`);
  return undefined;
}

function parseSteps(steps: readonly unknown[], problems: string[]): RecipeStep[] {
  const out: RecipeStep[] = [];
  steps.forEach((step, i) => {
    const kind = variantOf<StepKind>(STEP_SCHEMAS, step, `/steps/${i}`, problems);
    if (kind && check(STEP_SCHEMAS[kind], step, `/steps/${i}`, problems)) out.push(step as RecipeStep);
  });
  return out;
}

async function resolveBase(raw: unknown, dir: string, problems: string[], seen: ReadonlySet<string>): Promise<ResolvedBase | undefined> {
  const kind = variantOf(BASE_SCHEMAS, raw, '/base', problems);
  if (!kind || !check(BASE_SCHEMAS[kind], raw, '/base', problems)) return undefined;
  const b = raw as Record<string, unknown>;
  if (kind === 'recipe') return { type: 'recipe', recipe: await loadRecipeAt(resolve(dir, String(b['recipe'])), seen) };
  if (kind === 'layer') {
    return {
      type: 'layer',
      layer: resolve(dir, String(b['layer'])),
      kernel: resolve(dir, String(b['kernel'])),
      initrd: resolve(dir, String(b['initrd'])),
    };
  }
  const d = b['debootstrap'] as {
    suite: string;
    variant?: 'minbase' | 'buildd';
    mirror: string;
    include?: string[];
    components?: string[];
  };
  return {
    type: 'debootstrap',
    suite: d.suite,
    variant: d.variant ?? 'minbase',
    mirror: d.mirror,
    include: d.include ?? [],
    components: d.components ?? ['main'],
  };
}

function stackProblems(r: Omit<Recipe, 'dir' | 'file'>): string[] {
  const problems: string[] = [];
  const { base } = r;
  if ((r.kind === 'os') !== (base.type === 'debootstrap'))
    problems.push(`/base: an os recipe starts from debootstrap, and only an os recipe does`);
  if (base.type === 'recipe') {
    if (KIND_ORDER[base.recipe.kind] > KIND_ORDER[r.kind])
      problems.push(`/kind: kind ${r.kind} cannot stack on ${base.recipe.name} (kind ${base.recipe.kind})`);
    const names = recipeChain(base.recipe).map((x) => x.name);
    if (names.includes(r.name)) problems.push(`/name: ${r.name} already names a layer beneath it`);
  }
  return problems;
}

async function loadRecipeAt(path: string, seen: ReadonlySet<string>): Promise<Recipe> {
  const file = (await stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  ))
    ? join(path, RECIPE_FILE)
    : path;
  const real = await realpath(file).catch((cause: unknown) => {
    throw ApplErr.APPL_ERR_RECIPE_INVALID(`${file}: cannot read (${(cause as Error).message})`, { cause });
  });
  if (seen.has(real)) throw ApplErr.APPL_ERR_RECIPE_INVALID(`${file}: recipes stack on each other in a loop`);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(real, 'utf8'));
  } catch (cause) {
    throw ApplErr.APPL_ERR_RECIPE_INVALID(`${file}: not JSON: ${(cause as Error).message}`, { cause });
  }
  const problems: string[] = [];
  if (!check(RecipeHead, raw, '', problems)) throw ApplErr.APPL_ERR_RECIPE_INVALID(`${file}:\n  ${problems.join('\n  ')}`);
  const head = raw as {
    name: string;
    version: string;
    kind: LayerKind;
    description?: string;
    epoch?: number;
    base: unknown;
    steps: unknown[];
    channel?: unknown;
  };
  const dir = dirname(real);
  const steps = parseSteps(head.steps, problems);
  const channelOk = head.channel === undefined || check(ChannelPart, head.channel, '/channel', problems);
  const base = await resolveBase(head.base, dir, problems, new Set([...seen, real]));
  if (problems.length || !base) throw ApplErr.APPL_ERR_RECIPE_INVALID(`${file}:\n  ${problems.join('\n  ')}`);
  const channel =
    channelOk && head.channel !== undefined ? (Value.Default(ChannelPart, structuredClone(head.channel)) as ChannelPart) : undefined;
  const released = channel ? parseReleased(channel.released) : undefined;
  const epoch = head.epoch ?? (released ? Math.floor(released.getTime() / 1000) : DEFAULT_EPOCH);
  const recipe: Recipe = {
    dir,
    file: real,
    name: head.name,
    version: head.version,
    kind: head.kind,
    description: head.description,
    epoch,
    base,
    steps,
    channel,
  };
  const stack = stackProblems(recipe);
  if (stack.length) throw ApplErr.APPL_ERR_RECIPE_INVALID(`${file}:\n  ${stack.join('\n  ')}`);
  return recipe;
}

/** Loads `path` (a `recipe.json` or its folder) and every recipe it stacks on. */
export function loadRecipe(path: string): Promise<Recipe> {
  return loadRecipeAt(resolve(path), new Set());
}

/** The recipes of a stack, bottom → top, ending with `top`. */
export function recipeChain(top: Recipe): Recipe[] {
  const out: Recipe[] = [];
  for (let r: Recipe | undefined = top; r; r = r.base.type === 'recipe' ? r.base.recipe : undefined) out.unshift(r);
  return out;
}
