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
