/**
 * TypeBox schemas of the request bodies, params and queries of stormd's API. Bodies allow no
 * other properties; sizes and counts are bounded. Each body's static type is checked against the
 * wire type in `protocol.ts` at compile time, so the two cannot drift apart.
 *
 * @example
 * app.put('/layers/:sha256', { schema: { params: Sha256Params, body: StageLayerBody } }, handler);
 */
import Type, { type Static } from 'typebox';
import type {
  AttachVolumeRequest,
  CreateVolumeRequest,
  CreateImageDiskRequest,
  CreateInstanceLayerRequest,
  DefineDomainRequest,
  InstanceActionRequest,
  MergeLayersRequest,
  NewWritableLayerRequest,
  PackageRequest,
  ReceiveFileQuery,
  StageLayerRequest,
} from '../../protocol.js';

const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$' });

export const Sha256Params = Type.Object({ sha256: Sha256 }, { additionalProperties: false });
/** The id rule of `domainNameFor`: it becomes `storm-<id>` and a folder name. */
export const IdParams = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,57}$' }) }, { additionalProperties: false });

const LayerId = Type.String({ pattern: '^w(0|[1-9][0-9]{0,8})$' });
/** Room above MAX_STACK_DEPTH, so a stack one too deep gets its own clear error from the service. */
const LayerIds = (minItems: number) => Type.Array(LayerId, { minItems, maxItems: 64, uniqueItems: true });

export const LayerIdParams = Type.Object({ id: IdParams.properties.id, layerId: LayerId }, { additionalProperties: false });
export const PackageParams = Type.Object({ id: IdParams.properties.id, sha256: Sha256 }, { additionalProperties: false });

export const StageLayerBody = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: 2048 }),
    size: Type.Integer({ minimum: 0, maximum: 2 ** 45 }),
  },
  { additionalProperties: false },
);

const SeedFile = Type.Object(
  {
    contentBase64: Type.String({ pattern: '^[A-Za-z0-9+/]*={0,2}$', maxLength: 4 * 1024 * 1024 }),
    mode: Type.Optional(Type.Integer({ minimum: 0, maximum: 0o7777 })),
  },
  { additionalProperties: false },
);

const SeedFiles = Type.Record(Type.String({ maxLength: 1024 }), SeedFile, { maxProperties: 256 });
const LayerSizeMiB = Type.Integer({ minimum: 8, maximum: 1024 * 1024 });

export const CreateInstanceLayerBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 253 }),
    files: Type.Optional(SeedFiles),
    sizeMiB: Type.Optional(LayerSizeMiB),
  },
  { additionalProperties: false },
);

const Firmware = Type.Union([Type.Literal('bios'), Type.Literal('uefi')]);
const SeedText = Type.String({ maxLength: 256 * 1024 });

export const CreateImageDiskBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 253 }),
    image: Sha256,
    format: Type.Union([Type.Literal('qcow2'), Type.Literal('raw')]),
    firmware: Type.Optional(Firmware),
    sizeMiB: Type.Integer({ minimum: 1, maximum: 64 * 1024 * 1024 }),
    seed: Type.Optional(
      Type.Object({ metaData: SeedText, userData: SeedText, networkConfig: Type.Optional(SeedText) }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);

const GuestPaths = Type.Array(Type.String({ minLength: 2, maxLength: 1024, pattern: '^/' }), { maxItems: 256 });

export const NewWritableLayerBody = Type.Object(
  {
    files: Type.Optional(SeedFiles),
    copyPaths: Type.Optional(GuestPaths),
    sizeMiB: Type.Optional(LayerSizeMiB),
    on: Type.Optional(Type.String({ pattern: '^w(0|[1-9][0-9]{0,8})$' })),
  },
  { additionalProperties: false },
);

export const MergeLayersBody = Type.Object({ layers: LayerIds(1) }, { additionalProperties: false });

export const PackageBody = Type.Object(
  {
    layers: LayerIds(1),
    exclude: Type.Optional(GuestPaths),
  },
  { additionalProperties: false },
);

export const DefineDomainBody = Type.Object(
  {
    uuid: Type.String({ pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' }),
    memoryMiB: Type.Integer({ minimum: 16, maximum: 4 * 1024 * 1024 }),
    vcpus: Type.Integer({ minimum: 1, maximum: 64 }),
    boot: Type.Optional(
      Type.Object(
        {
          kernel: Sha256,
          initrd: Sha256,
          extraCmdline: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: 32 })),
        },
        { additionalProperties: false },
      ),
    ),
    image: Type.Optional(Type.Object({ firmware: Type.Optional(Firmware) }, { additionalProperties: false })),
    layers: Type.Array(Sha256, { minItems: 0, maxItems: 25 }),
    frozen: Type.Optional(LayerIds(0)),
    nics: Type.Array(
      Type.Object(
        { mac: Type.String({ maxLength: 17 }), bridge: Type.String({ maxLength: 15 }), ip: Type.Optional(Type.String({ maxLength: 15 })) },
        { additionalProperties: false },
      ),
      { maxItems: 8 },
    ),
    metadata: Type.Optional(
      Type.Record(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }), Type.String({ maxLength: 4096 }), { maxProperties: 64 }),
    ),
  },
  { additionalProperties: false },
);

export const IncomingInstanceBody = Type.Object(
  {
    domain: DefineDomainBody,
    writable: Type.Object({ id: LayerId, virtualBytes: Type.Integer({ minimum: 1, maximum: 2 ** 50 }) }, { additionalProperties: false }),
  },
  { additionalProperties: false },
);

const MigrationUri = Type.String({ minLength: 1, maxLength: 1024, pattern: '^[a-z][a-z0-9+.-]*://' });

export const MigrateInstanceBody = Type.Object(
  {
    targetUri: MigrationUri,
    domainXml: Type.String({ minLength: 1, maxLength: 1024 * 1024 }),
    migrateUri: Type.Optional(MigrationUri),
    disksUri: Type.Optional(MigrationUri),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1000, maximum: 24 * 3600 * 1000 })),
  },
  { additionalProperties: false },
);

export const InstanceActionBody = Type.Object(
  {
    action: Type.Union([Type.Literal('start'), Type.Literal('stop'), Type.Literal('reboot'), Type.Literal('destroy')]),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 15 * 60_000 })),
  },
  { additionalProperties: false },
);

export const SerialQuery = Type.Object(
  { bytes: Type.Optional(Type.Integer({ minimum: 0, maximum: 1024 * 1024 })) },
  { additionalProperties: false },
);

const VolumeName = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,31}$' });
export const VolumeParams = Type.Object({ name: VolumeName }, { additionalProperties: false });
export const InstanceVolumeParams = Type.Object({ id: IdParams.properties.id, name: VolumeName }, { additionalProperties: false });
export const CreateVolumeBody = Type.Object(
  { sizeMiB: Type.Integer({ minimum: 8, maximum: 16 * 1024 * 1024 }) },
  { additionalProperties: false },
);
export const AttachVolumeBody = Type.Object(
  { serial: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,20}$' }) },
  { additionalProperties: false },
);

/** Compile-time check that a schema's type is the wire type (both directions). */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Expect<T extends true> = T;
export type SchemaChecks = [
  Expect<Same<Static<typeof StageLayerBody>, StageLayerRequest>>,
  Expect<Same<Static<typeof InstanceActionBody>, InstanceActionRequest>>,
  Expect<Same<Static<typeof CreateVolumeBody>, CreateVolumeRequest>>,
  Expect<Same<Static<typeof AttachVolumeBody>, AttachVolumeRequest>>,
  Expect<Static<typeof CreateInstanceLayerBody> extends CreateInstanceLayerRequest ? true : false>,
  Expect<Static<typeof DefineDomainBody> extends DefineDomainRequest ? true : false>,
  Expect<Static<typeof CreateImageDiskBody> extends CreateImageDiskRequest ? true : false>,
  Expect<Static<typeof NewWritableLayerBody> extends NewWritableLayerRequest ? true : false>,
  Expect<Static<typeof MergeLayersBody> extends MergeLayersRequest ? true : false>,
  Expect<Static<typeof PackageBody> extends PackageRequest ? true : false>,
  // The other direction, where readonly arrays keep `Same` from applying: no wire field is missing.
  Expect<Same<keyof Static<typeof DefineDomainBody>, keyof DefineDomainRequest>>,
  Expect<Same<keyof Static<typeof NewWritableLayerBody>, keyof NewWritableLayerRequest>>,
  Expect<Same<keyof Static<typeof MergeLayersBody>, keyof MergeLayersRequest>>,
  Expect<Same<keyof Static<typeof PackageBody>, keyof PackageRequest>>,
];

/** A file a move carries, relative to the instance's folder (`instance-files.ts` holds the exact rule). */
const MovablePath = Type.String({ pattern: '^(writable/(w(0|[1-9][0-9]{0,8})(\\.merged)?\\.qcow2|next-id)|instance\\.qcow2)$' });
export const FilePathQuery = Type.Object({ path: MovablePath }, { additionalProperties: false });
export const ReceiveFileQuerySchema = Type.Object(
  { path: MovablePath, sha256: Sha256, size: Type.Integer({ minimum: 0 }) },
  { additionalProperties: false },
);
export type ReceiveFileQueryCheck = Expect<Same<Static<typeof ReceiveFileQuerySchema>, ReceiveFileQuery>>;
