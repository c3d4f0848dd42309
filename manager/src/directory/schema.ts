/**
 * The directory's tables (users, groups, memberships, appliance service accounts). The manager's
 * migration list applies it; tests apply it directly. Only password hashes are stored, never a
 * password; `mail` is unique without regard to case so a Postfix lookup finds at most one user.
 */
export const DIRECTORY_SQL = `
  CREATE TABLE directory_users (
    uid             TEXT PRIMARY KEY,
    uid_number      INTEGER NOT NULL UNIQUE CHECK (uid_number BETWEEN 1000 AND 2147483647),
    gid_number      INTEGER NOT NULL CHECK (gid_number BETWEEN 0 AND 2147483647),
    cn              TEXT NOT NULL,
    sn              TEXT NOT NULL,
    given_name      TEXT,
    mail            TEXT COLLATE NOCASE UNIQUE,
    home_directory  TEXT NOT NULL,
    login_shell     TEXT NOT NULL,
    password_hash   TEXT,
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
  );
  CREATE TABLE directory_groups (
    name         TEXT PRIMARY KEY,
    gid_number   INTEGER NOT NULL UNIQUE CHECK (gid_number BETWEEN 1000 AND 2147483647),
    description  TEXT,
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
  );
  CREATE TABLE directory_members (
    group_name  TEXT NOT NULL REFERENCES directory_groups(name) ON DELETE CASCADE,
    uid         TEXT NOT NULL REFERENCES directory_users(uid) ON DELETE CASCADE,
    PRIMARY KEY (group_name, uid)
  );
  CREATE INDEX directory_members_by_uid ON directory_members (uid);
  CREATE TABLE directory_services (
    name         TEXT PRIMARY KEY,
    owner        TEXT,
    description  TEXT,
    secret_hash  TEXT NOT NULL,
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
  );
  CREATE INDEX directory_services_by_owner ON directory_services (owner);
`;
