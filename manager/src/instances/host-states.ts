/** How a host's view of a domain maps onto an instance's state. */
import type { InstanceStatus } from '../../../stormd/protocol.js';
import type { InstanceState } from './instance-store.js';

export function stateFromHost(s: InstanceStatus | undefined): InstanceState {
  switch (s?.state) {
    case 'running':
      return 'running';
    case 'shutoff':
      return 'stopped';
    case 'paused':
    case 'suspended':
      return 'paused';
    case 'shutting-down':
      return 'stopping';
    case 'crashed':
      return 'crashed';
    case 'unknown':
      return 'unknown';
    default:
      return 'lost';
  }
}

/** States the manager itself is driving; host reports do not overwrite them. */
export const TRANSITIONAL: ReadonlySet<InstanceState> = new Set(['launching', 'destroying', 'failed']);

/** Operations that move an instance between hosts: while one is open, its hosts' reports of it are the move's, not drift. */
export const MOVE_KINDS: ReadonlySet<string> = new Set(['move', 'live-move']);
