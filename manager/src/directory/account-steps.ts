/**
 * The directory's part of an instance's operations, as journal steps: `account` at launch (a
 * read-only service account, whose seed file goes into the instance layer; the password is in the
 * result only, never in the journal; undo: the account goes) and `removeAccount` at destroy
 * (forward only).
 *
 * @example
 * const files = await op.run(steps.account, { name: 'web1', owner: id }); // { '/etc/storm/ldap.json': … }
 */
import type { Step } from '../operations/step.js';
import { serviceAccountSeed } from './seed.js';
import type { DirectoryStore } from './store.js';

export type SeedFiles = Record<string, { contentBase64: string; mode: number }>;

export interface AccountSteps {
  /** Guests reach a directory: launches take the `account` step. */
  readonly enabled: boolean;
  readonly account: Step<{ readonly name: string; readonly owner: string }, SeedFiles>;
  readonly removeAccount: Step<{ readonly name: string }>;
}

/** `ldap`: where guests reach the directory; without it (no LDAP served) no account is made. */
export function accountSteps(directory: DirectoryStore, ldap: { readonly uri: string; readonly baseDn: string } | null): AccountSteps {
  return {
    enabled: ldap !== null,
    account: {
      name: 'directory.account',
      run: async ({ name, owner }) => (ldap ? serviceAccountSeed(await directory.issueServiceAccount(name, { owner }), ldap) : {}),
      undo: async ({ name }) => void (await directory.deleteServiceAccount(name)),
    },
    removeAccount: { name: 'directory.remove-account', run: async ({ name }) => void (await directory.deleteServiceAccount(name)) },
  };
}
