/**
 * `storm doctor`'s report: the manager's checks, then each host's, one line each; `ok` is false
 * when any fails.
 *
 * @example
 * const report = await runDoctor(ctx);
 * report.ok; // false: some line has status 'fail', with a message and a fix
 */
import type { ManagerContext } from '../context.js';
import type { DoctorReport } from './doctor-types.js';
import { hostChecks } from './host-checks.js';
import { managerChecks } from './manager-checks.js';

export async function runDoctor(ctx: ManagerContext, now = new Date()): Promise<DoctorReport> {
  const manager = await managerChecks(ctx, now);
  const rows = await ctx.hosts.store.list();
  const hosts = rows.some((h) => h.status !== 'revoked')
    ? hostChecks(rows, { now, silentAfterMs: ctx.config.heartbeatSeconds * 1000 * ctx.config.missedHeartbeats })
    : [
        {
          scope: 'hosts',
          name: 'enrolled',
          status: 'fail' as const,
          message: 'no host is enrolled: launches have nowhere to go',
          fix: 'storm host token, then run the command it prints on the host (or start the manager with --local-host)',
        },
      ];
  const checks = [...manager, ...hosts];
  return { ok: !checks.some((c) => c.status === 'fail'), checks };
}
