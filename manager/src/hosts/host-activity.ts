/**
 * Puts what a host says it is doing (`GET /v1/activity`) into the end of an error message: the
 * steps under way (a define waiting for libvirt, a layer being fetched), else the requests it is
 * answering, longest first.
 *
 * @example
 * describeActivity({ tasks: [{ what: 'defining domain storm-i-1 (waiting for libvirt)', forMs: 31_200 }] });
 * // 'it was defining domain storm-i-1 (waiting for libvirt), for 31.2 s'
 */
import type { HostActivity } from '../../../stormd/protocol.js';

const SHOWN = 3;

export function describeActivity(activity: HostActivity): string {
  const steps = activity.tasks.filter((t) => !t.what.startsWith('answering '));
  const shown = (steps.length ? steps : activity.tasks).slice(0, SHOWN);
  if (!shown.length) return 'it reports nothing under way now (the call may have just finished)';
  return `it was ${shown.map((t) => `${t.what}, for ${(t.forMs / 1000).toFixed(1)} s`).join('; and ')}`;
}
