/**
 * Each enrolled host's lines for `storm doctor`: whether it heartbeats, then the checks its last
 * heartbeat carried (stormd runs them for every heartbeat), then its certificate's renewal.
 *
 * @example
 * hostChecks(rows, { silentAfterMs: 30_000 }); // [{ scope: 'host vm', name: 'heartbeat', status: 'ok', … }, …]
 */
import { parseHealth } from '../hosts/host-health.js';
import type { HostRow } from '../hosts/host-store.js';
import type { DoctorCheck } from './doctor-types.js';

const DAY_MS = 86_400_000;
/** stormd renews 30 days ahead; a certificate this close to its end means renewal is failing. */
const CERT_WARN_DAYS = 14;

export function hostChecks(rows: readonly HostRow[], opts: { readonly silentAfterMs: number; readonly now?: Date }): DoctorCheck[] {
  const now = opts.now ?? new Date();
  return rows.filter((h) => h.status !== 'revoked').flatMap((h) => linesOf(h, now, opts.silentAfterMs));
}

function linesOf(h: HostRow, now: Date, silentAfterMs: number): DoctorCheck[] {
  const scope = `host ${h.name}`;
  const fixStormd = `check that stormd runs on ${h.name} and reaches the manager (its log says why not)`;
  // Declared dead: the administrator's decision, not a fault to fix; nothing of it is checked.
  if (h.dead_at)
    return [
      {
        scope,
        name: 'heartbeat',
        status: 'skip',
        message: `declared dead at ${h.dead_at}; storm host undrain ${h.name} once it is back, or storm host rm ${h.name}`,
      },
    ];
  if (h.status === 'new' || !h.last_heartbeat)
    return [
      { scope, name: 'heartbeat', status: 'fail', message: `enrolled ${h.created_at} but has never sent a heartbeat`, fix: fixStormd },
    ];
  const ago = Math.round((now.getTime() - Date.parse(h.last_heartbeat)) / 1000);
  if (h.status === 'unreachable')
    return [
      {
        scope,
        name: 'heartbeat',
        status: 'fail',
        message: `unreachable: ${h.last_error ?? 'no heartbeat'} (last ${ago} s ago)`,
        fix: fixStormd,
      },
    ];
  const lines: DoctorCheck[] = [
    ago * 1000 > silentAfterMs
      ? { scope, name: 'heartbeat', status: 'fail', message: `no heartbeat for ${ago} s`, fix: fixStormd }
      : { scope, name: 'heartbeat', status: 'ok', message: `last heartbeat ${ago} s ago` },
  ];
  const health = parseHealth(h.health);
  if (!health) lines.push({ scope, name: 'checks', status: 'skip', message: 'its stormd sends no checks (older than this manager)' });
  for (const c of health?.checks ?? [])
    lines.push({ scope, name: c.name, status: c.status, message: c.message, ...(c.fix ? { fix: c.fix } : {}) });
  lines.push(certificate(h, now, scope));
  return lines;
}

function certificate(h: HostRow, now: Date, scope: string): DoctorCheck {
  if (!h.cert_not_after) return { scope, name: 'certificate', status: 'skip', message: 'enrolled before expiry was recorded' };
  const left = Math.floor((Date.parse(h.cert_not_after) - now.getTime()) / DAY_MS);
  if (left < CERT_WARN_DAYS && !h.next_cert_serial) {
    return {
      scope,
      name: 'certificate',
      status: 'fail',
      message: `its certificate expires in ${left} days and it has not renewed it`,
      fix: `see stormd's log on ${h.name} (certificate renewal runs at start and every 12 h)`,
    };
  }
  return {
    scope,
    name: 'certificate',
    status: 'ok',
    message: `certificate valid for ${left} more days${h.next_cert_serial ? ' (renewed; the new one is not in use yet)' : ''}`,
  };
}
