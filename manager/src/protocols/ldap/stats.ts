/** The LDAP server's counters; `LdapServer.stats()` returns a copy. */
export interface LdapStats {
  connections: number;
  activeConnections: number;
  /** Closed at once because `maxConnections` were open. */
  rejectedConnections: number;
  messages: number;
  binds: number;
  bindsSucceeded: number;
  /** invalidCredentials: unknown DN or wrong password (one answer for both). */
  bindsFailed: number;
  /** Anonymous, unauthenticated (DN without password), SASL, LDAPv2. */
  bindsRefused: number;
  searches: number;
  entriesReturned: number;
  sizeLimitExceeded: number;
  compares: number;
  extended: number;
  /** Connections switched to TLS by StartTLS. */
  tlsStarted: number;
  /** Binds refused with confidentialityRequired: clear text while `requireTls` is on. */
  bindsInClearRefused: number;
  writesRefused: number;
  /** Searches and compares before a successful bind. */
  unauthenticatedRefused: number;
  unavailableCritical: number;
  /** Connections ended with a Notice of Disconnection for a malformed message. */
  malformed: number;
  /** Connections ended for a message over `maxMessageBytes`. */
  oversize: number;
  /** Connections ended for a slow message, no bind in time, or idleness. */
  timeouts: number;
  /** Binds answered busy because too many password checks were waiting. */
  busy: number;
  internalErrors: number;
}

export function emptyStats(): LdapStats {
  return {
    connections: 0,
    activeConnections: 0,
    rejectedConnections: 0,
    messages: 0,
    binds: 0,
    bindsSucceeded: 0,
    bindsFailed: 0,
    bindsRefused: 0,
    searches: 0,
    entriesReturned: 0,
    sizeLimitExceeded: 0,
    compares: 0,
    extended: 0,
    tlsStarted: 0,
    bindsInClearRefused: 0,
    writesRefused: 0,
    unauthenticatedRefused: 0,
    unavailableCritical: 0,
    malformed: 0,
    oversize: 0,
    timeouts: 0,
    busy: 0,
    internalErrors: 0,
  };
}
