/** Directory: the LDAP users and groups appliances authenticate against; add and remove them. */
import { useState } from 'preact/hooks';
import { api, type ApiError, toApiError } from '../api/client.js';
import { useConfirm } from '../ui/confirm.js';
import { ErrorBox } from '../ui/error-box.js';
import { Field } from '../ui/field.js';
import { Page } from '../ui/page.js';
import { useAction } from '../ui/use-action.js';
import { type Row, ServiceList } from './service-list.js';

function AddUser({ onDone }: { readonly onDone: () => void }) {
  const [f, setF] = useState({ uid: '', givenName: '', sn: '', mail: '', password: '' });
  const { busy, error, run } = useAction();
  const set = (k: keyof typeof f) => (e: { currentTarget: HTMLInputElement }) => setF({ ...f, [k]: e.currentTarget.value });
  const submit = (e: Event) => {
    e.preventDefault();
    const body = Object.fromEntries(Object.entries(f).filter(([, v]) => v.trim() !== ''));
    void run(async () => {
      await api.post('/directory/users', body);
      setF({ uid: '', givenName: '', sn: '', mail: '', password: '' });
      onDone();
    });
  };
  return (
    <form class="card form" onSubmit={submit} aria-labelledby="add-user-title">
      <h2 id="add-user-title">Add a user</h2>
      <ErrorBox error={error} title="Not added" />
      <div class="inline-fields wrap">
        <Field id="dir-uid" label="User name" hint="lower-case, starts with a letter">
          <input
            id="dir-uid"
            name="uid"
            required
            autocomplete="off"
            spellcheck={false}
            value={f.uid}
            onInput={set('uid')}
            aria-describedby="dir-uid-hint"
          />
        </Field>
        <Field id="dir-given" label="Given name">
          <input id="dir-given" name="givenName" autocomplete="off" value={f.givenName} onInput={set('givenName')} />
        </Field>
        <Field id="dir-sn" label="Surname">
          <input id="dir-sn" name="sn" autocomplete="off" value={f.sn} onInput={set('sn')} />
        </Field>
        <Field id="dir-mail" label="Mail">
          <input id="dir-mail" name="mail" type="email" autocomplete="off" value={f.mail} onInput={set('mail')} />
        </Field>
        <Field id="dir-password" label="Password" hint="at least 8 characters; none: cannot log in yet">
          <input
            id="dir-password"
            name="password"
            type="password"
            autocomplete="new-password"
            value={f.password}
            onInput={set('password')}
            aria-describedby="dir-password-hint"
          />
        </Field>
      </div>
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          Add user
        </button>
      </div>
    </form>
  );
}

export function DirectoryPage() {
  const [version, setVersion] = useState(0);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const ask = useConfirm();
  const remove = async (kind: 'users' | 'groups', key: string) => {
    if (
      !(await ask.confirm({
        title: `Delete ${kind === 'users' ? 'user' : 'group'} ${key}?`,
        body: 'Appliances stop accepting it at once.',
        action: 'Delete',
      }))
    )
      return;
    setError(undefined);
    try {
      await api.delete(`/directory/${kind}/${encodeURIComponent(key)}`);
    } catch (err) {
      setError(toApiError(err));
    }
    setVersion(version + 1);
  };
  const del = (kind: 'users' | 'groups', key: string) => (row: Row) => (
    <button
      type="button"
      class="danger-quiet"
      onClick={() => void remove(kind, String(row[key]))}
      aria-label={`Delete ${String(row[key])}`}
    >
      Delete
    </button>
  );
  return (
    <Page title="Directory">
      <AddUser onDone={() => setVersion(version + 1)} />
      <ErrorBox error={error} />
      <h2>Users</h2>
      <ServiceList
        key={`u${version}`}
        path="/directory/users"
        what="directory users"
        refreshOn={['directory']}
        preferred={['uid', 'cn', 'mail', 'uidNumber', 'gidNumber', 'memberOf', 'hasPassword']}
        rowActions={del('users', 'uid')}
      />
      <h2>Groups</h2>
      <ServiceList
        key={`g${version}`}
        path="/directory/groups"
        what="directory groups"
        refreshOn={['directory']}
        preferred={['name', 'gidNumber', 'description', 'members']}
        rowActions={del('groups', 'name')}
      />
      {ask.dialog}
    </Page>
  );
}
