/** The API shape of an instance: identity, placement, state, network identity and its layer stack bottom to top. */
import type { InstanceView, ParamValue } from '../../protocol/index.js';
import type { InstanceFile, InstanceRow } from './instance-store.js';

export type { InstanceView };

export function instanceView(
  row: InstanceRow,
  files: readonly InstanceFile[],
  host: { id: string; name: string } | null,
  domain: string | null,
): InstanceView {
  const layers = [
    ...files
      .filter((f) => f.role === 'layer')
      .map((f) => ({ kind: f.kind, sha256: f.sha256 as string | null, size: f.size as number | null, writable: false })),
    // Writable layers frozen by checkpoints: read-only now, the instance's own history.
    ...(JSON.parse(row.frozen || '[]') as string[]).map((id) => ({ kind: 'frozen', sha256: null, size: null, writable: false, id })),
  ];
  return {
    id: row.id,
    name: row.name,
    appliance: row.appliance,
    version: row.version,
    channelId: row.channel_id,
    host,
    state: row.state,
    desired: row.desired,
    mac: row.mac,
    ip: row.ip,
    fqdn: domain ? `${row.name}.${domain}` : null,
    memoryMiB: row.memory_mib,
    vcpus: row.vcpus,
    params: JSON.parse(row.params) as Record<string, ParamValue>,
    layers: [...layers, { kind: 'instance', sha256: null, size: null, writable: true }],
    boot: {
      kernel: files.find((f) => f.role === 'kernel')?.sha256 ?? null,
      initrd: files.find((f) => f.role === 'initrd')?.sha256 ?? null,
    },
    guestStatus: row.guest_status ? (JSON.parse(row.guest_status) as unknown) : null,
    lastError: row.last_error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
