/**
 * Wire types of data volumes: `GET /api/v1/volumes`, `POST /api/v1/volumes` (201),
 * `DELETE /api/v1/volumes/:name` (204; refused while attached), `POST /api/v1/volumes/:name/attach`
 * and `POST /api/v1/volumes/:name/detach` (the volume as it now stands). docs/volumes.md.
 *
 * @example
 * await api.post<VolumeView>('/volumes', { name: 'pgdata', sizeMiB: 1024 });
 * await api.post<VolumeView>('/volumes/pgdata/attach', { instance: 'db1' });
 */
import Type, { type Static } from 'typebox';
import { IsoTime, List, Nullable, OneOf } from './common.js';

/** 1-32 of `[a-z0-9-]`, starting with a letter or digit: a file name on the host and part of the guest's serial. */
export const VolumeName = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,31}$' });

export const VolumeView = Type.Object({
  name: VolumeName,
  /** The host holding its file (a volume never moves: it attaches only to instances on that host). */
  host: Type.String(),
  hostId: Type.String(),
  sizeMiB: Type.Integer(),
  format: OneOf(['qcow2']),
  /** The disk's serial in the guest: `/sys/block/vd*\/serial`, `/dev/disk/by-id/virtio-<serial>` where udev runs. */
  serial: Type.String(),
  /** The instance it is attached to (name and id), or null. */
  instance: Nullable(Type.String()),
  instanceId: Nullable(Type.String()),
  createdAt: IsoTime,
});
export type VolumeView = Static<typeof VolumeView>;

export const VolumeList = Type.Object({ volumes: List(VolumeView) });
export type VolumeList = Static<typeof VolumeList>;

export const CreateVolumeBody = Type.Object(
  {
    name: VolumeName,
    /** Virtual size; the file is sparse, so unused space costs nothing. */
    sizeMiB: Type.Integer({ minimum: 8, maximum: 16 * 1024 * 1024 }),
    /** The host by name or id; absent: the only host, or the one with the fewest instances. */
    host: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);
export type CreateVolumeBody = Static<typeof CreateVolumeBody>;

export const VolumeParams = Type.Object({ name: VolumeName });
export type VolumeParams = Static<typeof VolumeParams>;

export const AttachVolumeBody = Type.Object(
  {
    /** The instance by name or id; it must be on the volume's host. */
    instance: Type.String({ minLength: 1, maxLength: 64 }),
  },
  { additionalProperties: false },
);
export type AttachVolumeBody = Static<typeof AttachVolumeBody>;

/** `POST /api/v1/volumes/:name/attach`: the volume, and whether the running guest got it now or gets it at its next start. */
export const AttachedVolumeView = Type.Object({ ...VolumeView.properties, live: Type.Boolean() });
export type AttachedVolumeView = Static<typeof AttachedVolumeView>;
