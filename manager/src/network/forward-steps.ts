/**
 * The uplink's part of an instance's destroy, as a journal step: its forwards go, and their rules
 * (`Uplink.instanceRemoved`; safe to repeat: a second call finds none). Forward only, no undo.
 *
 * @example
 * await op.run(forwardSteps(uplink).removeForwards, { instanceId: 'i-1' });
 */
import type { Step } from '../operations/step.js';

export interface ForwardSteps {
  readonly removeForwards: Step<{ readonly instanceId: string }>;
}

export function forwardSteps(uplink: { instanceRemoved(instanceId: string): Promise<void> }): ForwardSteps {
  return { removeForwards: { name: 'network.remove-forwards', run: ({ instanceId }) => uplink.instanceRemoved(instanceId) } };
}
