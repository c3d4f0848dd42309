/**
 * `storm kerberos`: the realm the manager runs (`GET /api/v1/kerberos`): the KDC's state, each
 * directory user's principal and each instance's principals.
 */
import { parseCommand } from '../args.js';
import type { CommandSpec } from '../command.js';
import { relativeTime } from '../format.js';
import { serviceCall } from '../service-api.js';
import { table } from '../table.js';
import type { KerberosAnswer } from '../views.js';

const WHY: Readonly<Record<string, string>> = {
  'no-password': '- (no password)',
  'password-predates-realm': '- (at the next storm user passwd)',
};

export const kerberos: CommandSpec = {
  name: 'kerberos',
  usage: ['kerberos'],
  summary: "the Kerberos realm: the KDC's state, users' and instances' principals",
  details: `Shows the realm the manager runs with --kdc-listen: whether its KDC (MIT krb5kdc, a child of
the manager) serves, since when and how often it was restarted; each directory user's principal
(uid@REALM, same password as the directory); each instance's principals (host/<fqdn> and the
services its appliance declares). A user created before the realm existed gets a principal at
their next password change (storm user passwd): the manager keeps only password hashes.`,
  async run(ctx, args) {
    parseCommand(args, {}, { min: 0, max: 0 });
    const r = await serviceCall('Kerberos', () => ctx.api.get<KerberosAnswer>('/kerberos'));
    if (!r.enabled) {
      ctx.print(r, 'no Kerberos realm: the manager runs no KDC (start it with --kdc-listen HOST:PORT)\n');
      return 0;
    }
    const kdc = r.kdc;
    const lines = [
      `realm    ${r.realm}`,
      `kdc      ${kdc.state}${kdc.pid ? ` (pid ${kdc.pid})` : ''} on ${r.listen}${kdc.since ? `, started ${relativeTime(kdc.since)}` : ''}, restarted ${kdc.restarts} time${kdc.restarts === 1 ? '' : 's'}`,
      ...(kdc.lastError ? [`         last error: ${kdc.lastError}`] : []),
      '',
      table(
        ['USER', 'PRINCIPAL'],
        r.users.map((u) => [u.uid, u.principal ?? WHY[u.missing ?? ''] ?? '-']),
      ).trimEnd(),
      '',
      table(
        ['INSTANCE', 'PRINCIPALS'],
        r.instances.map((i) => [i.name, i.principals.join(' ') || '-']),
      ).trimEnd(),
      ...(r.usersWithoutPrincipal.length
        ? [
            '',
            `${r.usersWithoutPrincipal.length} user(s) have no principal yet: ${r.usersWithoutPrincipal.join(', ')}; storm user passwd UID gives them one`,
          ]
        : []),
    ];
    ctx.print(r, `${lines.join('\n')}\n`);
    return 0;
  },
};
