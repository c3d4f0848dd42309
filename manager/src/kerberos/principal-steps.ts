/**
 * The realm's part of an instance's operations, as journal steps: `principals` at launch (host/ and
 * the descriptor's services, with fresh keys; undo: they go) and `removePrincipals` at destroy
 * (forward only). Without a realm a launch skips them, and both do nothing (an undo recorded by a
 * manager that had one leaves the rest to the realm's prune).
 *
 * @example
 * const steps = principalSteps(kerberos ?? undefined);
 * await op.run(steps.principals, { name: 'web1', services: ['HTTP'] });
 */
import type { Step } from '../operations/step.js';
import type { InstancePrincipalSync } from './principal-sync.js';

export interface PrincipalSteps {
  /** A realm runs: launches take the `principals` step. */
  readonly enabled: boolean;
  readonly principals: Step<{ readonly name: string; readonly services: readonly string[] }>;
  readonly removePrincipals: Step<{ readonly name: string }>;
}

export function principalSteps(sync: InstancePrincipalSync | undefined): PrincipalSteps {
  return {
    enabled: sync !== undefined,
    principals: {
      name: 'kerberos.principals',
      run: async (inst) => void (await sync?.instanceAdded(inst)),
      undo: async ({ name }) => sync?.instanceRemoved(name),
    },
    removePrincipals: { name: 'kerberos.remove-principals', run: async ({ name }) => sync?.instanceRemoved(name) },
  };
}
