/**
 * The manager's own checks for `storm doctor`: its data folder and secrets private, the database
 * intact (sqlite's quick_check), the CA and the current CRL inside their validity windows, the
 * network services it was asked to run accepting connections (and the Kerberos realm's own lines, and
 * the uplink's rules and forwarding with --uplink nat),
 * the local host heartbeating.
 *
 * @example
 * const lines = await managerChecks(ctx); // [{ scope: 'manager', name: 'data-folder', status: 'ok', message: '…' }, …]
 */
import { lstat, readdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { parseHostPort } from '../../../common/config.js';
import { errorMessage } from '../../../common/errors.js';
import { readCrl } from '../../../trust/crl-info.js';
import { localHostName } from '../local-host/enrol.js';
import type { ManagerContext } from '../context.js';
import type { DoctorCheck } from './doctor-types.js';
import { kerberosChecks } from '../kerberos/kerberos-checks.js';

const DAY_MS = 86_400_000;
/** A CA or CRL closer to its end than this is a failure now, while there is time to act. */
const WARN_DAYS = 14;

type Check = Omit<DoctorCheck, 'scope'>;

export async function managerChecks(ctx: ManagerContext, now = new Date()): Promise<DoctorCheck[]> {
  const checks: Check[] = [
    await dataFolder(ctx.dataDir),
    await database(ctx),
    ca(ctx, now),
    crl(ctx, now),
    ...(await services(ctx)),
    await localHost(ctx, now),
  ];
  return checks.map((c) => ({ scope: 'manager', ...c }));
}

/** Files and folders that hold secrets: none may be open to group or others. */
async function dataFolder(dataDir: string): Promise<Check> {
  const pki = join(dataDir, 'pki');
  const paths = [dataDir, join(dataDir, 'admin.token'), join(dataDir, 'storm.db'), join(dataDir, 'storm.db-wal'), pki];
  for (const name of await readdir(pki).catch(() => [] as string[]))
    if (name.endsWith('.key') || name.endsWith('.json')) paths.push(join(pki, name));
  const open: string[] = [];
  for (const p of paths) {
    const s = await lstat(p).catch(() => undefined);
    if (s && (s.mode & 0o077) !== 0) open.push(`${p} (${(s.mode & 0o777).toString(8).padStart(4, '0')})`);
  }
  if (!open.length)
    return {
      name: 'data-folder',
      status: 'ok',
      message: `${dataDir} and its secrets (admin token, database, CA key) are open to their owner only`,
    };
  return {
    name: 'data-folder',
    status: 'fail',
    message: `group or others can read ${open.join(', ')}`,
    fix: `chmod go-rwx ${open.map((o) => o.replace(/ \(\d+\)$/, '')).join(' ')}`,
  };
}

async function database(ctx: ManagerContext): Promise<Check> {
  try {
    const rows = await ctx.db.all<{ quick_check: string }>('PRAGMA quick_check');
    const problems = rows.map((r) => r.quick_check).filter((t) => t !== 'ok');
    if (!problems.length)
      return { name: 'database', status: 'ok', message: `${join(ctx.dataDir, 'storm.db')} passes sqlite's quick_check` };
    return {
      name: 'database',
      status: 'fail',
      message: `quick_check found: ${problems.slice(0, 5).join('; ')}`,
      fix: 'stop the manager and restore storm.db from a backup (sqlite3 storm.db ".recover" salvages what it can)',
    };
  } catch (err) {
    return { name: 'database', status: 'fail', message: `quick_check could not run: ${errorMessage(err)}`, fix: "see the manager's log" };
  }
}

function ca(ctx: ManagerContext, now: Date): Check {
  const left = Math.floor((ctx.trust.ca.notAfter.getTime() - now.getTime()) / DAY_MS);
  const where = join(ctx.dataDir, 'pki', 'ca.pem');
  if (left < 0)
    return {
      name: 'ca',
      status: 'fail',
      message: `the CA (${where}) expired ${-left} days ago: no host or guest certificate verifies`,
      fix: 'a new CA means enrolling every host again: see docs/pki.md',
    };
  if (left < WARN_DAYS)
    return {
      name: 'ca',
      status: 'fail',
      message: `the CA (${where}) expires in ${left} days`,
      fix: "plan a new CA and the hosts' re-enrolment: see docs/pki.md",
    };
  return { name: 'ca', status: 'ok', message: `the CA is valid until ${ctx.trust.ca.notAfter.toISOString().slice(0, 10)} (${left} days)` };
}

function crl(ctx: ManagerContext, now: Date): Check {
  try {
    const info = readCrl(ctx.trust.crlPem, ctx.trust.caPem);
    const next = info.nextUpdate;
    if (!next)
      return {
        name: 'crl',
        status: 'fail',
        message: `CRL ${info.crlNumber} has no nextUpdate`,
        fix: 'restart the manager: it rebuilds the CRL at start',
      };
    const left = (next.getTime() - now.getTime()) / DAY_MS;
    if (left < 0)
      return {
        name: 'crl',
        status: 'fail',
        message: `CRL ${info.crlNumber} expired at ${next.toISOString()}: hosts refuse the manager's calls`,
        fix: 'restart the manager: it rebuilds the CRL at start',
      };
    return {
      name: 'crl',
      status: 'ok',
      message: `CRL ${info.crlNumber} is signed by the CA and valid until ${next.toISOString().slice(0, 10)} (${Math.floor(left)} days)`,
    };
  } catch (err) {
    return {
      name: 'crl',
      status: 'fail',
      message: `the current CRL does not check: ${errorMessage(err)}`,
      fix: 'restart the manager: it rebuilds the CRL at start',
    };
  }
}

/** Each TCP service the config asks for must accept a connection; DHCP must be running. */
async function services(ctx: ManagerContext): Promise<Check[]> {
  const { config, network } = ctx;
  const out: Check[] = [];
  const tcp = async (name: string, listen: string, running: boolean) => {
    const { host, port } = parseHostPort(listen, name);
    const dial = !host || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
    const why = running ? await acceptsConnection(dial, port) : 'it is not running';
    out.push(
      why === null
        ? { name, status: 'ok', message: `${name.toUpperCase()} accepts connections on ${listen}` }
        : {
            name,
            status: 'fail',
            message: `${name.toUpperCase()} on ${listen}: ${why}`,
            fix: "see the manager's log for why the service stopped; restart the manager",
          },
    );
  };
  if (config.dnsListen && ctx.net)
    await tcp('dns', network.dns ? `${network.dns.address.host}:${network.dns.address.port}` : config.dnsListen, !!network.dns);
  if (config.ldapListen) await tcp('ldap', config.ldapListen, !!network.ldap);
  if (config.dhcpInterface && ctx.net) {
    out.push(
      network.dhcp
        ? { name: 'dhcp', status: 'ok', message: `DHCP runs on ${config.dhcpInterface}` }
        : {
            name: 'dhcp',
            status: 'fail',
            message: `DHCP on ${config.dhcpInterface} is not running`,
            fix: "see the manager's log; restart the manager",
          },
    );
  }
  // The realm: its KDC serving, its files private, users from before it waiting for a principal.
  if (ctx.kerberos)
    out.push(
      ...(await kerberosChecks(
        ctx.kerberos,
        (await ctx.directory.listUsers()).map((u) => ({ uid: u.uid, hasPassword: u.hasPassword })),
      )),
    );
  const uplink = await ctx.uplink.check();
  if (uplink) out.push(uplink);
  if (!out.length)
    out.push({
      name: 'services',
      status: 'skip',
      message: 'no appliance network services are configured (--dns-listen, --dhcp-interface, --ldap-listen, --kdc-listen)',
    });
  return out;
}

function acceptsConnection(host: string, port: number, timeoutMs = 3000): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (why: string | null) => {
      socket.destroy();
      resolve(why);
    };
    socket.setTimeout(timeoutMs, () => done(`no connection within ${timeoutMs / 1000} s`));
    socket.once('connect', () => done(null));
    socket.once('error', (err: NodeJS.ErrnoException) => done(`${err.code ?? 'error'}: ${err.message}`));
  });
}

/** With --local-host, the host this machine enrolled must be heartbeating. */
async function localHost(ctx: ManagerContext, now: Date): Promise<Check> {
  if (!ctx.localHypervisor) return { name: 'local-host', status: 'skip', message: 'this manager runs no local host (--local-host)' };
  const name = localHostName();
  const row = (await ctx.hosts.store.list()).find((h) => h.name === name && h.status !== 'revoked');
  const fix = "the manager runs it as a child and restarts it when it dies: see the manager's log (local stormd …)";
  if (!row) return { name: 'local-host', status: 'fail', message: `no enrolled host is named ${name}: the local host did not enrol`, fix };
  const silentMs = row.last_heartbeat ? now.getTime() - Date.parse(row.last_heartbeat) : Number.POSITIVE_INFINITY;
  const limitMs = ctx.config.heartbeatSeconds * 1000 * ctx.config.missedHeartbeats;
  if (silentMs > limitMs) {
    return {
      name: 'local-host',
      status: 'fail',
      message: `local host ${name} ${row.last_heartbeat ? `has sent no heartbeat for ${Math.round(silentMs / 1000)} s` : 'has never sent a heartbeat'}`,
      fix,
    };
  }
  return {
    name: 'local-host',
    status: 'ok',
    message: `local host ${name} (${ctx.localHypervisor}) heartbeats; last ${Math.round(silentMs / 1000)} s ago`,
  };
}
