/**
 * A host's health as the manager sees it: the checks its last heartbeat carried, the reason it is
 * degraded (its failing checks, in one line), and the status the API shows. A `ready` host with a
 * failing check is `degraded`: placement skips it and a launch pinned to it fails with the reason.
 *
 * @example
 * degradedReason({ checkedAt, checks: [{ name: 'libvirt', status: 'fail', message: 'libvirt at qemu:///system does not answer' }] });
 * // 'libvirt: libvirt at qemu:///system does not answer'
 */
import type { HostHealth } from '../../../stormd/protocol.js';
import type { HostStatus } from './host-store.js';

/** What the API and placement show: the stored status, `degraded` for a ready host whose checks fail, `dead` once declared so. */
export type HostViewStatus = HostStatus | 'degraded' | 'dead';

/** The failing checks as one line (`name: message; …`), or null when none fails. */
export function degradedReason(health: HostHealth | null | undefined): string | null {
  const failing = (health?.checks ?? []).filter((c) => c.status === 'fail');
  return failing.length ? failing.map((c) => `${c.name}: ${c.message}`).join('; ') : null;
}

export function viewStatus(row: {
  readonly status: HostStatus;
  readonly degraded: string | null;
  readonly dead_at?: string | null;
}): HostViewStatus {
  // Dead is the administrator's word and outlasts heartbeats (docs/hosts.md); revoked outlasts everything.
  if (row.dead_at && row.status !== 'revoked') return 'dead';
  return row.status === 'ready' && row.degraded ? 'degraded' : row.status;
}

/** The stored health (JSON), or null for a host that never sent checks or a value that does not parse. */
export function parseHealth(text: string | null): HostHealth | null {
  if (!text) return null;
  try {
    const v = JSON.parse(text) as HostHealth;
    return Array.isArray(v?.checks) ? v : null;
  } catch {
    return null;
  }
}
