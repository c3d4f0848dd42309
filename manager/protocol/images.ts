/**
 * The layer cache and the manager's own packages: `GET /api/v1/images`, `GET /api/v1/images/:sha256/blob`
 * (a cached file's bytes, for hosts staging it or administrators), `GET /api/v1/packages`.
 */
import Type, { type Static } from 'typebox';
import { IsoTime, List, Nullable, Sha256 } from './common.js';

export const ImageView = Type.Object({
  sha256: Sha256,
  size: Type.Integer(),
  /** The layer kind (`os`, `appliance`, `deployment`), or `kernel` / `initrd`. */
  kind: Type.String(),
  cachedAt: IsoTime,
  /** The appliance versions whose descriptors name this file. */
  usedBy: List(Type.Object({ name: Type.String(), version: Type.String(), channelId: Type.String() })),
});
export type ImageView = Static<typeof ImageView>;

export const ImageList = Type.Object({ images: List(ImageView), totalBytes: Type.Integer() });
export type ImageList = Static<typeof ImageList>;

export const ImageParams = Type.Object({ sha256: Sha256 });

/** A deployment layer made by `package`, published in the manager's own channel `ch-local`. */
export const PackageView = Type.Object({
  name: Type.String(),
  version: Type.String(),
  /** The appliance version it was packaged from. */
  base: Type.Object({ name: Type.String(), version: Type.String(), channelId: Nullable(Type.String()) }),
  sha256: Sha256,
  size: Type.Integer(),
  /** The instance it was packaged from, when recorded. */
  instanceId: Nullable(Type.String()),
  createdAt: IsoTime,
});
export type PackageView = Static<typeof PackageView>;

export const PackageList = Type.Object({ packages: List(PackageView) });

/**
 * `POST /api/v1/images/import?…` with the image's bytes as `application/octet-stream`: a disk image
 * becomes a traditional appliance of the local channel (`storm image import`). The size and sha256
 * are the client's, checked as the bytes arrive; the format is checked with qemu-img.
 */
export const ImageImportQuery = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 63 }),
    version: Type.String({ minLength: 1, maxLength: 100 }),
    format: Type.Union([Type.Literal('qcow2'), Type.Literal('raw')]),
    firmware: Type.Optional(Type.Union([Type.Literal('bios'), Type.Literal('uefi')])),
    sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    size: Type.Integer({ minimum: 1 }),
    memoryMiB: Type.Optional(Type.Integer({ minimum: 16, maximum: 1_048_576 })),
    vcpus: Type.Optional(Type.Integer({ minimum: 1, maximum: 256 })),
  },
  { additionalProperties: false },
);
export type ImageImportQuery = Static<typeof ImageImportQuery>;

export const ImageImportAnswer = Type.Object({
  name: Type.String(),
  version: Type.String(),
  sha256: Type.String(),
  size: Type.Integer(),
});
export type ImageImportAnswer = Static<typeof ImageImportAnswer>;
