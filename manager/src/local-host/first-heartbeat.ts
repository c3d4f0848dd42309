/**
 * Start-up waits for the local host's first heartbeat before it says the manager is ready: a
 * `storm doctor` or `storm launch` typed right after the banner must find a ready host, not one
 * still starting. A host that stays silent does not block start-up; the manager says so instead.
 */
import type { ManagerContext } from '../context.js';

/** True once the host named `name` has heartbeated; false when `timeoutMs` passed first. */
export async function waitForFirstHeartbeat(ctx: ManagerContext, name: string, timeoutMs: number, pollMs = 200): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = await ctx.hosts.get(name).catch(() => undefined);
    if (row?.last_heartbeat && row.status !== 'revoked') return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
