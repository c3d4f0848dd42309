/**
 * Fault injection for the tests, at one journaled step, right after it acted and before the
 * journal records it done (a database step: right after its transaction):
 * - `STORM_FAULT=crash-after:<kind>:<step>`: the manager kills itself (SIGKILL, no cleanup), as a
 *   power cut would; the crash-consistency e2e proves reconcile repairs it;
 * - `STORM_FAULT=fail-after:<kind>:<step>`: the step throws MGR_ERR_INTERNAL, as a host or a disk
 *   failing there would; the operation is undone in the same process.
 * Kinds and steps are the journal's: `crash-after:launch:host.define`, `fail-after:checkpoint:host.writable-layer`.
 *
 * @example
 * const at = faultPoint(); // from STORM_FAULT
 * maybeFault(at, 'launch', 'host.define');
 */
import { MgrErr } from '../errors.js';

export interface FaultPoint {
  readonly action: 'crash' | 'fail';
  readonly kind: string;
  readonly step: string;
}

export function faultPoint(env: NodeJS.ProcessEnv = process.env): FaultPoint | undefined {
  const m = /^(crash|fail)-after:([a-z-]+):([a-z.-]+)$/.exec(env['STORM_FAULT'] ?? '');
  return m ? { action: m[1] as FaultPoint['action'], kind: m[2]!, step: m[3]! } : undefined;
}

export function maybeFault(at: FaultPoint | undefined, kind: string, step: string): void {
  if (!at || at.kind !== kind || at.step !== step) return;
  if (at.action === 'crash') process.kill(process.pid, 'SIGKILL');
  throw MgrErr.MGR_ERR_INTERNAL(`a fault STORM_FAULT injected after ${kind}:${step}`);
}
