/**
 * Fault injection for the crash-consistency tests: `STORM_FAULT=crash-after:<step>` makes the manager
 * kill itself (SIGKILL, no cleanup) right after a launch step, exactly as a power cut would.
 * Steps: reserved, staged, layer, defined, started (before the final database commit).
 */
export type LaunchStep = 'reserved' | 'staged' | 'layer' | 'defined' | 'started';

export function crashPoint(env: NodeJS.ProcessEnv = process.env): LaunchStep | undefined {
  const m = /^crash-after:(reserved|staged|layer|defined|started)$/.exec(env['STORM_FAULT'] ?? '');
  return m?.[1] as LaunchStep | undefined;
}

export function maybeCrash(step: LaunchStep, at: LaunchStep | undefined): void {
  if (step === at) process.kill(process.pid, 'SIGKILL');
}
