/** Kerberos: the realm the manager runs (--kdc-listen), its KDC's state, users' and instances' principals. */
import type { KerberosAnswer, RealmUserView } from '../../../manager/protocol/index.js';
import { ago } from '../format.js';
import { useResource } from '../live/use-resource.js';
import { ErrorBox } from '../ui/error-box.js';
import { Empty, Page } from '../ui/page.js';
import { StateBadge } from '../ui/state-badge.js';

// Keyed by the wire type's reasons: a new reason fails to compile until it has its words here.
const MISSING: Readonly<Record<NonNullable<RealmUserView['missing']>, string>> = {
  'no-password': 'none: the user has no password',
  'password-predates-realm': 'none yet: set at the next password change',
};

export function KerberosPage() {
  const res = useResource<KerberosAnswer>('/kerberos', ['kerberos', 'instance']);
  const r = res.data;
  return (
    <Page title="Kerberos">
      <ErrorBox error={res.error} />
      {res.loading && !r ? <Empty>Loading the realm…</Empty> : null}
      {r && !r.enabled ? <Empty>No Kerberos realm: the manager runs no KDC (start it with --kdc-listen HOST:PORT).</Empty> : null}
      {r?.enabled ? (
        <>
          <article class="card" aria-labelledby="realm-title" data-kdc-state={r.kdc.state}>
            <h2 id="realm-title">{r.realm}</h2>
            <p>
              KDC <StateBadge state={r.kdc.state} /> on <code>{r.listen}</code>
              {r.kdc.pid ? <> (pid {r.kdc.pid})</> : null}
              {r.kdc.since ? <>, started {ago(r.kdc.since)}</> : null}, restarted {r.kdc.restarts} {r.kdc.restarts === 1 ? 'time' : 'times'}
            </p>
            {r.kdc.lastError ? <p class="bad-text small break">{r.kdc.lastError}</p> : null}
            {r.usersWithoutPrincipal.length ? (
              <p class="small">
                {r.usersWithoutPrincipal.length} user(s) from before the realm have no principal yet ({r.usersWithoutPrincipal.join(', ')}):
                they get one at their next password change.
              </p>
            ) : null}
          </article>
          <div class="table-wrap">
            <table aria-label="Users' principals">
              <thead>
                <tr>
                  <th scope="col">User</th>
                  <th scope="col">Principal</th>
                </tr>
              </thead>
              <tbody>
                {r.users.map((u) => (
                  <tr key={u.uid}>
                    <td>{u.uid}</td>
                    <td class="break">{u.principal ?? <span class="muted">{u.missing ? MISSING[u.missing] : 'none'}</span>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {r.instances.length ? null : <Empty>No instances: each gets host/&lt;fqdn&gt; at launch.</Empty>}
          <div class="table-wrap" hidden={!r.instances.length}>
            <table aria-label="Instances' principals">
              <thead>
                <tr>
                  <th scope="col">Instance</th>
                  <th scope="col">Principals</th>
                </tr>
              </thead>
              <tbody>
                {r.instances.map((i) => (
                  <tr key={i.name}>
                    <td>{i.name}</td>
                    <td class="break">{i.principals.length ? i.principals.join(', ') : <span class="muted">none</span>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </Page>
  );
}
