/**
 * The recipe format (`recipe.json`, documented in docs/recipes.md): what a layer stacks on, the
 * steps that make it, and its channel metadata. TypeBox schemas are the types; `recipe.ts` loads
 * and checks files against them.
 *
 * @example
 * { "name": "nginx-web", "version": "1.0.0", "kind": "appliance",
 *   "base": { "recipe": "../debian-jeos" },
 *   "steps": [{ "apt": ["nginx"] }, { "copy": "files" }, { "delete": ["/etc/motd"] }],
 *   "channel": { "title": "nginx web", "description": "…", "released": "2026-11-21", "memoryMiB": 256, "vcpus": 1 } }
 */
import Type, { type Static } from 'typebox';
import { ManifestSchema } from '../../../channels/src/index.js';
import { LAYER_KINDS, NAME_PATTERN, VERSION_PATTERN } from '../../../channels/src/format/rules.js';

/** A path relative to the recipe's folder (may leave it, e.g. `../../guest-agent/storm-agent`). */
const RelPath = Type.String({ minLength: 1, maxLength: 1024, pattern: '^[^\\u0000-\\u001f]+$' });
/** An absolute path inside the layer below `/`: plain segments, no whitespace, quotes, `.` or `..`. */
export const LAYER_PATH_PATTERN = '^(?!.*/\\.\\.?(/|$))(/[A-Za-z0-9._+@%=,:~-]+)+/?$';
const LayerPath = Type.String({ maxLength: 1024, pattern: LAYER_PATH_PATTERN });
/** Where a copy lands: a layer path, or `/` itself. */
const CopyTarget = Type.String({ maxLength: 1024, pattern: `${LAYER_PATH_PATTERN}|^/$` });
/** A Debian package name, optionally pinned: `nginx`, `postfix=3.7.11-0+deb12u1`. */
export const PACKAGE_PATTERN = '^[a-z0-9][a-z0-9+.-]+(=[A-Za-z0-9.+~:-]+)?$';
const Package = Type.String({ maxLength: 200, pattern: PACKAGE_PATTERN });
/** A debconf selection line, `owner question type value`, on one line (it goes into a here-document). */
const Selection = Type.String({
  minLength: 5,
  maxLength: 4096,
  pattern: '^[a-z0-9][a-z0-9+.-]*[ \\t]+[^ \\t\\n\\r]+[ \\t]+[a-z]+([ \\t][^\\n\\r]*)?$',
});

export const CopyStep = Type.Object(
  {
    /** A file or folder relative to the recipe; a folder's contents land under `to`. */
    copy: RelPath,
    to: Type.Optional(CopyTarget),
    /** Skip with a warning when the source is missing (a part that is still landing). */
    optional: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
/** A shell command for the union's /bin/sh (under `set -e`); an array is its lines, for readable JSON. */
export const RunStep = Type.Object(
  {
    run: Type.Union([
      Type.String({ minLength: 1, maxLength: 65536 }),
      Type.Array(Type.String({ maxLength: 4096 }), { minItems: 1, maxItems: 1000 }),
    ]),
  },
  { additionalProperties: false },
);
export const AptStep = Type.Object({ apt: Type.Array(Package, { minItems: 1, maxItems: 200 }) }, { additionalProperties: false });
export const DebconfStep = Type.Object({ debconf: Type.Array(Selection, { minItems: 1, maxItems: 200 }) }, { additionalProperties: false });
export const DeleteStep = Type.Object({ delete: Type.Array(LayerPath, { minItems: 1, maxItems: 1000 }) }, { additionalProperties: false });

/** Each step is an object with exactly one of these keys; the key picks the schema. */
export const STEP_SCHEMAS = { copy: CopyStep, run: RunStep, apt: AptStep, debconf: DebconfStep, delete: DeleteStep } as const;
export type StepKind = keyof typeof STEP_SCHEMAS;
export type CopyStep = Static<typeof CopyStep>;
export type RecipeStep =
  | Static<typeof CopyStep>
  | Static<typeof RunStep>
  | Static<typeof AptStep>
  | Static<typeof DebconfStep>
  | Static<typeof DeleteStep>;

export const DebootstrapBase = Type.Object(
  {
    debootstrap: Type.Object(
      {
        suite: Type.String({ pattern: '^[a-z][a-z0-9-]{1,30}$' }),
        variant: Type.Optional(Type.Enum(['minbase', 'buildd'])),
        /** Archive URL; STORM_DEBIAN_MIRROR overrides it (use the mirror the host's apt uses). */
        mirror: Type.String({ pattern: '^https?://[^\\s\'"]+$', maxLength: 512 }),
        include: Type.Optional(Type.Array(Package, { maxItems: 200 })),
        components: Type.Optional(Type.Array(Type.String({ pattern: '^[a-z-]{1,30}$' }), { maxItems: 8 })),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export const RecipeBase = Type.Object({ recipe: RelPath }, { additionalProperties: false });
/** An OS layer built elsewhere (e.g. tiny-os) with the kernel and initrd that boot it. */
export const LayerBase = Type.Object({ layer: RelPath, kernel: RelPath, initrd: RelPath }, { additionalProperties: false });
export const BASE_SCHEMAS = { debootstrap: DebootstrapBase, recipe: RecipeBase, layer: LayerBase } as const;
export type RecipeBaseSpec = Static<typeof DebootstrapBase> | Static<typeof RecipeBase> | Static<typeof LayerBase>;

/** The channel manifest (channels' `manifest.json`) minus what the builder fills in. */
export const ChannelPart = Type.Omit(ManifestSchema, ['name', 'version', 'layers']);
export type ChannelPart = Static<typeof ChannelPart>;

/** Top-level fields; `base`, `steps` and `channel` are checked by their own schemas. */
export const RecipeHead = Type.Object(
  {
    name: Type.String({ pattern: NAME_PATTERN }),
    version: Type.String({ pattern: VERSION_PATTERN }),
    kind: Type.Enum([...LAYER_KINDS]),
    description: Type.Optional(Type.String({ maxLength: 500 })),
    /** SOURCE_DATE_EPOCH inside the chroot and every timestamp in the image. */
    epoch: Type.Optional(Type.Integer({ minimum: 1, maximum: 4_000_000_000 })),
    base: Type.Unknown(),
    steps: Type.Array(Type.Unknown(), { maxItems: 500 }),
    channel: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
);
