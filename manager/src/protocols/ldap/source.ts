/**
 * What the LDAP server needs from the directory: a snapshot to publish and a password check.
 * `DirectoryStore` implements it; the server never writes.
 *
 * @example
 * const reader: DirectoryReader = directoryStore;
 * await reader.authenticate({ kind: 'service', name: 'mx1' }, secret);
 */
import type { BindPrincipal, DirectorySnapshot } from '../../directory/types.js';

export interface DirectoryReader {
  /** The directory without secrets; equal `version`s mean equal contents. */
  snapshot(): Promise<DirectorySnapshot>;
  /** `null`: a DN that names no account; must cost the same as a real check and answer false. */
  authenticate(principal: BindPrincipal | null, password: string): Promise<boolean>;
}
