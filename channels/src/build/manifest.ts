/**
 * The publisher's source format: one folder per appliance version holding `manifest.json`, plus
 * an optional `channel.json` at the top. Validated with a TypeBox schema, then with the same
 * cross-field rules the subscriber applies to descriptors; every error names file and field.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import Type, { type Static, type TSchema } from 'typebox';
import Value from 'typebox/value';
import { ChanErr } from '../errors.js';
import {
  CONFIG_KEY_PATTERN,
  FIRMWARES,
  IMAGE_FORMATS,
  KERBEROS_SERVICE_PATTERN,
  LAYER_KINDS,
  LIMITS,
  NAME_PATTERN,
  PARAM_NAME_PATTERN,
  PARAMETER_TYPES,
  RECORD_NAME_PATTERN,
  RECORD_TYPES,
  RELEASED_PATTERN,
  VERSION_PATTERN,
  parseHttpUrl,
  parseReleased,
} from '../format/rules.js';
import { applianceProblems } from '../format/semantics.js';

const Text = (max: number, min = 0) =>
  Type.String({ minLength: min, maxLength: max, pattern: '^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]*$' });
const Path = Type.String({ minLength: 1, maxLength: 4096, description: 'relative to the version folder' });
const Int = (min: number, max: number) => Type.Integer({ minimum: min, maximum: max });

export const ManifestLayerSchema = Type.Object(
  {
    kind: Type.Enum([...LAYER_KINDS]),
    /** A directory made into a reproducible squashfs. */
    dir: Type.Optional(Path),
    /** An existing squashfs image, e.g. a shared OS layer. */
    file: Type.Optional(Path),
    /** os layer only: the boot kernel and initrd. */
    kernel: Type.Optional(Path),
    initrd: Type.Optional(Path),
  },
  { additionalProperties: false },
);

/** A traditional appliance's one disk image: an existing qcow2 or raw file, checked with qemu-img at build. */
export const ManifestImageSchema = Type.Object(
  {
    file: Path,
    format: Type.Enum([...IMAGE_FORMATS]),
    firmware: Type.Optional(Type.Enum([...FIRMWARES])),
    /** Default: the image's virtual size. */
    minDiskMiB: Type.Optional(Int(LIMITS.diskMiB.min, LIMITS.diskMiB.max)),
  },
  { additionalProperties: false },
);

export const ManifestSchema = Type.Object(
  {
    name: Type.String({ pattern: NAME_PATTERN }),
    version: Type.String({ pattern: VERSION_PATTERN }),
    title: Text(LIMITS.titleLength, 1),
    description: Text(LIMITS.textLength),
    /** Release date: pubDate in the feed, `released` in the descriptor. */
    released: Type.String({ pattern: RELEASED_PATTERN }),
    upgradesFrom: Type.Optional(Type.String({ pattern: VERSION_PATTERN })),
    memoryMiB: Int(LIMITS.memoryMiB.min, LIMITS.memoryMiB.max),
    vcpus: Int(LIMITS.vcpus.min, LIMITS.vcpus.max),
    /** A layered appliance: its layers, bottom first. */
    layers: Type.Array(ManifestLayerSchema, { default: [], maxItems: LIMITS.layers }),
    /** A traditional appliance: its one disk image instead of layers. */
    image: Type.Optional(ManifestImageSchema),
    parameters: Type.Array(
      Type.Object(
        {
          name: Type.String({ pattern: PARAM_NAME_PATTERN }),
          type: Type.Enum([...PARAMETER_TYPES]),
          description: Text(LIMITS.textLength, 1),
          default: Type.Optional(Type.Union([Text(LIMITS.textLength), Type.Integer(), Type.Boolean()])),
          pattern: Type.Optional(Type.String({ minLength: 1, maxLength: LIMITS.patternLength })),
          min: Type.Optional(Type.Integer()),
          max: Type.Optional(Type.Integer()),
        },
        { additionalProperties: false },
      ),
      { default: [], maxItems: LIMITS.parameters },
    ),
    config: Type.Array(
      Type.Object(
        {
          key: Type.String({ pattern: CONFIG_KEY_PATTERN }),
          value: Text(LIMITS.templateLength),
          description: Type.Optional(Text(LIMITS.textLength)),
        },
        { additionalProperties: false },
      ),
      { default: [], maxItems: LIMITS.configItems },
    ),
    records: Type.Array(
      Type.Object(
        {
          type: Type.Enum([...RECORD_TYPES]),
          name: Type.String({ pattern: RECORD_NAME_PATTERN, maxLength: 253 }),
          value: Type.String({ minLength: 1, maxLength: LIMITS.templateLength, pattern: '^[^\\u0000-\\u001f\\u007f]*$' }),
          ttl: Type.Optional(Int(0, 2_147_483_647)),
          priority: Type.Optional(Int(0, 65535)),
          weight: Type.Optional(Int(0, 65535)),
          port: Type.Optional(Int(0, 65535)),
        },
        { additionalProperties: false },
      ),
      { default: [], maxItems: LIMITS.records },
    ),
    /** Kerberos services the instance gets principals for besides host/ (`HTTP`, `smtp`, …). */
    principals: Type.Array(Type.String({ pattern: KERBEROS_SERVICE_PATTERN }), { default: [], maxItems: LIMITS.principals }),
    /** The data volume launch makes and the guest mounts (its mount point checked by `applianceProblems`). */
    dataVolume: Type.Optional(
      Type.Object(
        { mountPoint: Type.String({ maxLength: 255 }), minSizeMiB: Int(LIMITS.dataVolumeMiB.min, LIMITS.dataVolumeMiB.max) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const ChannelMetaSchema = Type.Object(
  {
    title: Text(LIMITS.titleLength, 1),
    description: Text(LIMITS.textLength),
    /** The channel's home page; defaults to the base URL. */
    link: Type.Optional(Type.String({ maxLength: 2048 })),
  },
  { additionalProperties: false },
);

export type Manifest = Static<typeof ManifestSchema>;
export type ManifestLayer = Static<typeof ManifestLayerSchema>;
export type ManifestImage = Static<typeof ManifestImageSchema>;
export type ChannelMeta = Static<typeof ChannelMetaSchema>;

/** One appliance version found in SRC. */
export interface SourceVersion {
  /** The version folder; layer paths are relative to it. */
  readonly dir: string;
  readonly file: string;
  readonly manifest: Manifest;
}

export interface ChannelSource {
  readonly meta: ChannelMeta;
  readonly versions: readonly SourceVersion[];
}

export const DEFAULT_CHANNEL_META: ChannelMeta = { title: 'STORM channel', description: 'Appliances published with storm-channel.' };

/** Reads and validates SRC: `channel.json` (optional) and every `*\/manifest.json`, in name order. */
export async function loadChannelSource(src: string): Promise<ChannelSource> {
  let entries: string[];
  try {
    entries = (await readdir(src, { withFileTypes: true }))
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort();
  } catch (err) {
    throw ChanErr.CHAN_ERR_SOURCE_INVALID(`cannot read ${src}: ${(err as Error).message}`, { cause: err });
  }
  const problems: string[] = [];
  const metaFile = join(src, 'channel.json');
  const meta = (await exists(metaFile)) ? await readJson(metaFile, ChannelMetaSchema, problems) : DEFAULT_CHANNEL_META;
  if (meta?.link !== undefined && parseHttpUrl(meta.link) === undefined) problems.push(`${metaFile}: /link: not an absolute http(s) URL`);
  const versions: SourceVersion[] = [];
  for (const name of entries) {
    const file = join(src, name, 'manifest.json');
    if (!(await exists(file))) continue; // e.g. a folder of shared layer sources
    const manifest = await readJson(file, ManifestSchema, problems);
    if (manifest) {
      problems.push(...manifestProblems(manifest).map((p) => `${file}: ${p}`));
      versions.push({ dir: join(src, name), file, manifest });
    }
  }
  if (problems.length) throw ChanErr.CHAN_ERR_MANIFEST_INVALID(`\n  ${problems.join('\n  ')}`);
  if (!versions.length) throw ChanErr.CHAN_ERR_SOURCE_INVALID(`${src} has no <version folder>/manifest.json`);
  const seen = new Map<string, string>();
  for (const v of versions) {
    const key = `${v.manifest.name} ${v.manifest.version}`;
    const first = seen.get(key);
    if (first) throw ChanErr.CHAN_ERR_DUPLICATE_VERSION(`${key} in ${first} and ${v.file}`);
    seen.set(key, v.file);
  }
  return { meta: meta ?? DEFAULT_CHANNEL_META, versions };
}

/** Field rules the schema cannot say, as `path: message`. */
export function manifestProblems(m: Manifest): string[] {
  const problems: string[] = [];
  if (!parseReleased(m.released)) problems.push(`/released: ${m.released} is not a calendar date`);
  m.layers.forEach((l, i) => {
    if ((l.dir === undefined) === (l.file === undefined))
      problems.push(`/layers/${i}: give exactly one of "dir" (files to pack) or "file" (an existing squashfs)`);
    if ((l.kernel === undefined) !== (l.initrd === undefined)) problems.push(`/layers/${i}: "kernel" and "initrd" come together`);
  });
  const layers = m.layers.map((l) => ({ kind: l.kind, hasBoot: l.kernel !== undefined }));
  problems.push(...applianceProblems({ ...m, layers, hasImage: m.image !== undefined }));
  return problems;
}

async function readJson<S extends TSchema>(file: string, schema: S, problems: string[]): Promise<Static<S> | undefined> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    problems.push(`${file}: ${err instanceof SyntaxError ? `not JSON: ${err.message}` : (err as Error).message}`);
    return undefined;
  }
  const withDefaults = Value.Default(schema, value);
  if (Value.Check(schema, withDefaults)) return withDefaults as Static<S>;
  problems.push(...schemaProblems(schema, withDefaults).map((p) => `${file}: ${p}`));
  return undefined;
}

/** TypeBox errors as `path: message`, without the redundant ones a union or `false` schema adds. */
export function schemaProblems(schema: TSchema, value: unknown): string[] {
  const out = new Set<string>();
  for (const e of Value.Errors(schema, value)) {
    if (e.keyword === 'boolean' || /anyOf\/\d+$/.test(e.schemaPath)) continue;
    const at = e.instancePath || '/';
    const params = e.params as Record<string, unknown>;
    if (e.keyword === 'additionalProperties')
      out.add(`${at}: unknown field(s) ${(params['additionalProperties'] as string[]).map((k) => JSON.stringify(k)).join(', ')}`);
    else if (e.keyword === 'required')
      out.add(
        `${at}: missing field(s) ${(params['requiredProperties'] as string[] | undefined)?.map((k) => JSON.stringify(k)).join(', ') ?? e.message}`,
      );
    else if (e.keyword === 'enum') out.add(`${at}: must be one of ${(params['allowedValues'] as string[]).join(', ')}`);
    else if (e.keyword === 'anyOf') out.add(`${at}: must be a string, an integer or a boolean`);
    else out.add(`${at}: ${e.message}`);
  }
  return [...out];
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
