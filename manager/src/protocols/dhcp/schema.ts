/**
 * The DHCP lease table. The manager's migration list applies it; tests apply it directly.
 * `ip` is unique so two MACs can never hold one address, whatever the code above does.
 */
export const DHCP_LEASES_SQL = `
  CREATE TABLE dhcp_leases (
    mac         TEXT PRIMARY KEY,
    ip          TEXT NOT NULL UNIQUE,
    hostname    TEXT,
    client_id   TEXT,
    expires_at  INTEGER NOT NULL,
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
  );
`;
