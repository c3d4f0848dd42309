/**
 * Whether a heartbeat shows an instance the manager should bring back: its desired state is
 * `running` and its domain is shut off (`start`), or gone while the host still keeps its writable
 * layers (`define` then start), as stormd's or the host's restart leaves it. Anything else (a
 * paused, crashed or unknown domain, an instance mid-operation, one whose folder went too) is left
 * to the administrator and reconcile.
 *
 * @example
 * comebackFor({ state: 'stopped', desired: 'running' }, { state: 'shutoff', hasLayer: true }); // 'start'
 */
import type { InstanceStatus } from '../../../stormd/protocol.js';
import { TRANSITIONAL } from './host-states.js';
import type { InstanceRow } from './instance-store.js';

export type Comeback = 'start' | 'define';

export function comebackFor(
  row: Pick<InstanceRow, 'state' | 'desired'>,
  status: Pick<InstanceStatus, 'state' | 'hasLayer'> | undefined,
): Comeback | null {
  if (row.desired !== 'running' || TRANSITIONAL.has(row.state) || !status) return null;
  if (status.state === 'shutoff') return 'start';
  // A domain gone with its layers kept: defined again from the record's stack. Without its layers there is nothing to start.
  if (status.state === 'absent' && status.hasLayer) return 'define';
  return null;
}
