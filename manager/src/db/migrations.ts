/**
 * Schema migrations, applied in order at start, each in its own transaction; the schema version is
 * sqlite's `user_version`. Append new migrations; never edit one that has shipped.
 */
import type { Database } from './database.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/**
 * The DHCP lease table (migration 5). Tests of the DHCP server apply it directly.
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

/**
 * The directory's tables (migration 6: users, groups, memberships, appliance service accounts).
 * Tests of the directory apply it directly. Only password hashes are stored, never a
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

/**
 * The operation journal (migration 13; `operations/journal-store.ts` reads it): each launch,
 * lifecycle operation and destroy, and each of its steps with the intent it recorded before acting.
 * The crash records it replaces are carried over, so reconcile finishes or undoes them through
 * the journal like any other: a row in `launching` (`launch_step`) becomes an open launch, a row
 * with `operation` set an open lifecycle operation, and a row in `destroying` or `failed` an open
 * destroy. Steps whose effect the old record did not say are written `started`: their undo is safe
 * whether they acted or not. Then both old columns go.
 */
const NEW_OP_ID = "'op-' || lower(hex(randomblob(5)))";
const ON_HOST = "json_object('hostId', i.host_id, 'instanceId', i.id)";
const OPERATIONS_SQL = `
  CREATE TABLE operations (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    instance_id  TEXT,
    host_id      TEXT,
    subject      TEXT NOT NULL DEFAULT '{}',
    state        TEXT NOT NULL CHECK (state IN ('running', 'undoing', 'done', 'undone', 'superseded')),
    error        TEXT,
    started_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    closed_at    TEXT
  );
  CREATE INDEX operations_by_state ON operations (state, instance_id);
  CREATE TABLE operation_steps (
    operation_id  TEXT NOT NULL REFERENCES operations(id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL,
    name          TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('started', 'done', 'undone')),
    intent        TEXT NOT NULL,
    kept          TEXT,
    error         TEXT,
    PRIMARY KEY (operation_id, seq)
  );

  INSERT INTO operations (id, kind, instance_id, host_id, subject, state)
    SELECT ${NEW_OP_ID}, 'launch', id, host_id, json_object('name', name), 'running' FROM instances WHERE state = 'launching';
  INSERT INTO operation_steps (operation_id, seq, name, state, intent)
    SELECT o.id, 1, 'instance.reserve', 'done', json_object('instanceId', i.id, 'name', i.name) FROM operations o JOIN instances i ON i.id = o.instance_id WHERE o.kind = 'launch'
    UNION ALL SELECT o.id, 2, 'network.address', 'done', json_object('instanceId', i.id, 'mac', i.mac) FROM operations o JOIN instances i ON i.id = o.instance_id WHERE o.kind = 'launch' AND i.ip IS NOT NULL
    UNION ALL SELECT o.id, 3, 'kerberos.principals', 'started', json_object('name', i.name, 'services', json(COALESCE(json_extract(i.guest_spec, '$.principals'), '[]')))
      FROM operations o JOIN instances i ON i.id = o.instance_id WHERE o.kind = 'launch'
    UNION ALL SELECT o.id, 4, 'directory.account', 'started', json_object('name', i.name, 'owner', i.id) FROM operations o JOIN instances i ON i.id = o.instance_id WHERE o.kind = 'launch'
    UNION ALL SELECT o.id, 5, 'host.instance-layer', 'started', json_object('hostId', i.host_id, 'instanceId', i.id, 'name', i.name)
      FROM operations o JOIN instances i ON i.id = o.instance_id WHERE o.kind = 'launch'
    UNION ALL SELECT o.id, 6, 'host.define', 'started', ${ON_HOST} FROM operations o JOIN instances i ON i.id = o.instance_id WHERE o.kind = 'launch'
    UNION ALL SELECT o.id, 7, 'host.start', 'started', ${ON_HOST} FROM operations o JOIN instances i ON i.id = o.instance_id WHERE o.kind = 'launch';

  INSERT INTO operations (id, kind, instance_id, host_id, subject, state)
    SELECT ${NEW_OP_ID}, json_extract(operation, '$.op'), id, host_id, json_object('name', name, 'wasRunning', json(operation -> '$.wasRunning')), 'running'
    FROM instances WHERE operation IS NOT NULL AND state <> 'launching';
  INSERT INTO operation_steps (operation_id, seq, name, state, intent, kept)
    SELECT o.id, 1, 'host.stop-for-change', 'started',
      json_object(
        'hostId', i.host_id,
        'instance', json_object('id', i.id, 'name', i.name, 'mac', i.mac, 'uuid', i.uuid, 'ip', i.ip),
        'wasRunning', json(i.operation -> '$.wasRunning'),
        'previous', json_object('appliance', i.appliance, 'version', i.version, 'memoryMiB', i.memory_mib, 'vcpus', i.vcpus,
          'files', json(i.operation -> '$.before.files'), 'frozen', json(i.operation -> '$.before.frozen'))
      ), NULL
      FROM operations o JOIN instances i ON i.id = o.instance_id WHERE o.kind <> 'launch' AND i.operation IS NOT NULL
    UNION ALL SELECT o.id, 2, 'host.writable-layer', CASE WHEN json_extract(i.operation, '$.newLayer') IS NULL THEN 'started' ELSE 'done' END,
      json_object('hostId', i.host_id, 'instanceId', i.id, 'previousCurrent', NULL),
      CASE WHEN json_extract(i.operation, '$.newLayer') IS NULL THEN NULL ELSE json_object('layer', json_extract(i.operation, '$.newLayer')) END
      FROM operations o JOIN instances i ON i.id = o.instance_id WHERE o.kind <> 'launch' AND i.operation IS NOT NULL
    UNION ALL SELECT o.id, 3, 'host.define', 'started', ${ON_HOST}, NULL FROM operations o JOIN instances i ON i.id = o.instance_id WHERE o.kind <> 'launch' AND i.operation IS NOT NULL
    UNION ALL SELECT o.id, 4, 'host.start', 'started', ${ON_HOST}, NULL FROM operations o JOIN instances i ON i.id = o.instance_id WHERE o.kind <> 'launch' AND i.operation IS NOT NULL;

  INSERT INTO operations (id, kind, instance_id, host_id, subject, state)
    SELECT ${NEW_OP_ID}, 'destroy', id, host_id, json_object('name', name, 'mac', mac), 'running' FROM instances WHERE state IN ('destroying', 'failed');

  ALTER TABLE instances DROP COLUMN launch_step;
  ALTER TABLE instances DROP COLUMN operation;
`;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'api tokens and settings',
    sql: `
      CREATE TABLE api_tokens (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE,
        sha256      TEXT NOT NULL UNIQUE,
        created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
      );
      CREATE TABLE settings (
        key    TEXT PRIMARY KEY,
        value  TEXT NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'channels, appliances and the layer cache',
    sql: `
      CREATE TABLE channels (
        id             TEXT PRIMARY KEY,
        url            TEXT NOT NULL UNIQUE,
        public_key     TEXT,
        title          TEXT,
        status         TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'ok', 'failed')),
        last_refresh   TEXT,
        last_error     TEXT,
        etag           TEXT,
        last_modified  TEXT,
        feed_sha256    TEXT,
        created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
      );
      CREATE TABLE appliances (
        channel_id         TEXT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
        name               TEXT NOT NULL,
        version            TEXT NOT NULL,
        title              TEXT NOT NULL,
        upgrades_from      TEXT,
        descriptor_url     TEXT NOT NULL,
        descriptor_sha256  TEXT NOT NULL,
        descriptor         TEXT NOT NULL,
        PRIMARY KEY (channel_id, name, version)
      );
      CREATE INDEX appliances_by_name ON appliances (name, version);
      CREATE TABLE appliance_files (
        channel_id  TEXT NOT NULL,
        name        TEXT NOT NULL,
        version     TEXT NOT NULL,
        position    INTEGER NOT NULL,
        role        TEXT NOT NULL CHECK (role IN ('layer', 'kernel', 'initrd')),
        kind        TEXT NOT NULL,
        sha256      TEXT NOT NULL,
        size        INTEGER NOT NULL,
        url         TEXT NOT NULL,
        PRIMARY KEY (channel_id, name, version, position),
        FOREIGN KEY (channel_id, name, version) REFERENCES appliances (channel_id, name, version) ON DELETE CASCADE
      );
      CREATE INDEX appliance_files_by_sha ON appliance_files (sha256);
      CREATE TABLE images (
        sha256     TEXT PRIMARY KEY,
        size       INTEGER NOT NULL,
        kind       TEXT NOT NULL,
        cached_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
      );
    `,
  },
  {
    version: 3,
    name: 'hosts, enrolment, revocation, instances',
    sql: `
      CREATE TABLE enrolment_tokens (
        id            TEXT PRIMARY KEY,
        secret_hash   TEXT NOT NULL,
        created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        expires_at    TEXT NOT NULL,
        used_at       TEXT,
        used_by_host  TEXT
      );
      CREATE TABLE hosts (
        id                    TEXT PRIMARY KEY,
        name                  TEXT NOT NULL UNIQUE,
        url                   TEXT NOT NULL,
        cert_serial           TEXT NOT NULL,
        status                TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'ready', 'unreachable', 'revoked')),
        last_heartbeat        TEXT,
        last_error            TEXT,
        cpus                  INTEGER,
        memory_mib            INTEGER,
        free_memory_mib       INTEGER,
        allocated_memory_mib  INTEGER,
        hypervisor_uri        TEXT,
        domain_type           TEXT,
        created_at            TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
      );
      CREATE TABLE host_layers (
        host_id  TEXT NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
        sha256   TEXT NOT NULL,
        PRIMARY KEY (host_id, sha256)
      );
      CREATE TABLE revocations (
        serial      TEXT PRIMARY KEY,
        revoked_at  TEXT NOT NULL,
        reason      TEXT
      );
      CREATE TABLE instances (
        id            TEXT PRIMARY KEY,
        name          TEXT NOT NULL UNIQUE,
        uuid          TEXT NOT NULL UNIQUE,
        channel_id    TEXT,
        appliance     TEXT NOT NULL,
        version       TEXT NOT NULL,
        host_id       TEXT REFERENCES hosts(id),
        state         TEXT NOT NULL,
        desired       TEXT NOT NULL CHECK (desired IN ('running', 'stopped')),
        launch_step   TEXT,
        mac           TEXT NOT NULL UNIQUE,
        ip            TEXT UNIQUE,
        memory_mib    INTEGER NOT NULL,
        vcpus         INTEGER NOT NULL,
        params        TEXT NOT NULL DEFAULT '{}',
        token_hash    TEXT,
        last_error    TEXT,
        guest_status  TEXT,
        created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        updated_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
      );
      CREATE INDEX instances_by_host ON instances (host_id);
      CREATE TABLE instance_files (
        instance_id  TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
        position     INTEGER NOT NULL,
        role         TEXT NOT NULL CHECK (role IN ('layer', 'kernel', 'initrd')),
        kind         TEXT NOT NULL,
        sha256       TEXT NOT NULL,
        size         INTEGER NOT NULL,
        PRIMARY KEY (instance_id, position)
      );
    `,
  },
  {
    version: 4,
    name: 'network services: registered DNS records, DHCP leases',
    sql: `
      CREATE TABLE dns_records (
        id           INTEGER PRIMARY KEY,
        instance_id  TEXT REFERENCES instances(id) ON DELETE CASCADE,
        type         TEXT NOT NULL CHECK (type IN ('MX', 'SRV', 'TXT', 'CNAME')),
        name         TEXT NOT NULL,
        value        TEXT NOT NULL,
        ttl          INTEGER,
        created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        UNIQUE (type, name, value)
      );
      CREATE INDEX dns_records_by_name ON dns_records (name);
      ${DHCP_LEASES_SQL}
      -- What the guest is configured from, kept with the instance so it outlives its channel.
      ALTER TABLE instances ADD COLUMN guest_spec TEXT NOT NULL DEFAULT '{"config":[],"records":[]}';
    `,
  },
  {
    version: 5,
    name: 'console users and sessions',
    sql: `
      CREATE TABLE users (
        username       TEXT PRIMARY KEY,
        password_hash  TEXT NOT NULL,
        created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        updated_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
      );
      CREATE TABLE sessions (
        id_hash       TEXT PRIMARY KEY,
        username      TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
        csrf_token    TEXT NOT NULL,
        created_at    TEXT NOT NULL,
        expires_at    TEXT NOT NULL,
        last_seen_at  TEXT NOT NULL
      );
      CREATE INDEX sessions_by_expiry ON sessions (expires_at);
    `,
  },
  {
    version: 6,
    name: 'directory: users, groups, memberships, service accounts',
    sql: DIRECTORY_SQL,
  },
  {
    version: 7,
    name: 'lifecycle: writable layer stacks, checkpoints, packages',
    sql: `
      -- Frozen writable layers of the current stack (host layer ids, bottom first); the current writable one is on top.
      ALTER TABLE instances ADD COLUMN frozen TEXT NOT NULL DEFAULT '[]';
      -- A lifecycle operation under way (JSON), so a crash in its middle can be undone at reconcile.
      ALTER TABLE instances ADD COLUMN operation TEXT;
      CREATE TABLE checkpoints (
        id           TEXT PRIMARY KEY,
        instance_id  TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
        seq          INTEGER NOT NULL,
        reason       TEXT NOT NULL,
        appliance    TEXT NOT NULL,
        version      TEXT NOT NULL,
        channel_id   TEXT,
        files        TEXT NOT NULL,
        frozen       TEXT NOT NULL,
        params       TEXT NOT NULL,
        guest_spec   TEXT NOT NULL,
        created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        UNIQUE (instance_id, seq)
      );
      CREATE TABLE packages (
        name          TEXT NOT NULL,
        version       TEXT NOT NULL,
        base_channel  TEXT,
        base_name     TEXT NOT NULL,
        base_version  TEXT NOT NULL,
        sha256        TEXT NOT NULL,
        size          INTEGER NOT NULL,
        instance_id   TEXT,
        files         TEXT NOT NULL,
        created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        PRIMARY KEY (name, version)
      );
    `,
  },
  {
    version: 8,
    name: 'instances: look guests up by token hash',
    // Every XML-RPC call from a guest finds its instance by token; without this, each one scanned the table.
    sql: 'CREATE INDEX instances_by_token ON instances (token_hash);',
  },
  {
    version: 9,
    name: 'hosts: certificate expiry and renewal',
    // A renewed certificate is "next" until the host first uses it: until then both it and the current
    // one authenticate, so a renewal answer lost on the way can never lock the host out.
    sql: `
      ALTER TABLE hosts ADD COLUMN cert_not_after TEXT;
      ALTER TABLE hosts ADD COLUMN next_cert_serial TEXT;
      ALTER TABLE hosts ADD COLUMN next_cert_not_after TEXT;
      CREATE INDEX hosts_by_cert_serial ON hosts (cert_serial);
      CREATE INDEX hosts_by_next_cert_serial ON hosts (next_cert_serial);
    `,
  },
  {
    version: 10,
    name: 'hosts: health checks from the heartbeat',
    // `degraded` is the reason a ready host takes no launches (its failing checks), null when healthy;
    // `health` is the last heartbeat's checks as sent (JSON HostHealth).
    sql: `
      ALTER TABLE hosts ADD COLUMN health TEXT;
      ALTER TABLE hosts ADD COLUMN degraded TEXT;
    `,
  },
  {
    version: 11,
    name: 'network: forwards through the uplink',
    // A forward names the instance, never its address: the rules follow whatever address it has, and
    // removing the instance removes its forwards.
    sql: `
      CREATE TABLE network_forwards (
        protocol     TEXT NOT NULL CHECK (protocol IN ('tcp', 'udp')),
        port         INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
        instance_id  TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
        target_port  INTEGER NOT NULL CHECK (target_port BETWEEN 1 AND 65535),
        created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        PRIMARY KEY (protocol, port)
      );
      CREATE INDEX network_forwards_by_instance ON network_forwards (instance_id);
    `,
  },
  {
    version: 12,
    name: 'channels: the publication time of the feed held',
    // Feeds move forward only: a refresh refuses a feed published before this one (storm:published).
    sql: 'ALTER TABLE channels ADD COLUMN feed_published TEXT;',
  },
  {
    version: 13,
    name: 'the operation journal',
    sql: OPERATIONS_SQL,
  },
  {
    version: 14,
    name: "traditional (image) instances and administrators' SSH keys",
    sql: `
      CREATE TABLE image_instances (
        instance_id  TEXT PRIMARY KEY REFERENCES instances(id) ON DELETE CASCADE,
        firmware     TEXT NOT NULL CHECK (firmware IN ('bios', 'uefi')),
        disk_mib     INTEGER NOT NULL CHECK (disk_mib > 0),
        ssh_keys     TEXT NOT NULL DEFAULT '[]'
      );
      CREATE TABLE account_ssh_keys (
        principal  TEXT PRIMARY KEY,
        keys       TEXT NOT NULL DEFAULT '[]'
      );
    `,
  },
  {
    version: 15,
    name: 'volumes: data disks apart from the layer stack',
    // A volume lives on one host and outlives its instances: removing an instance only ends the
    // attachment (ON DELETE SET NULL); a volume goes only when an administrator removes it.
    sql: `
      CREATE TABLE volumes (
        name         TEXT PRIMARY KEY,
        host_id      TEXT NOT NULL REFERENCES hosts(id),
        size_mib     INTEGER NOT NULL CHECK (size_mib >= 8),
        format       TEXT NOT NULL DEFAULT 'qcow2' CHECK (format IN ('qcow2')),
        serial       TEXT NOT NULL UNIQUE,
        instance_id  TEXT REFERENCES instances(id) ON DELETE SET NULL,
        created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
      );
      CREATE INDEX volumes_by_instance ON volumes (instance_id);
    `,
  },
  {
    version: 16,
    name: 'hosts: drained, declared dead, a fence command',
    // Columns beside `status` (which keeps saying whether the host is heard from): a drained host
    // takes no placement; a dead one was fenced by the administrator and stays so until undrained.
    // `fence_argv` is a JSON array run by the manager before a declaration, with its timeout.
    sql: `
      ALTER TABLE hosts ADD COLUMN drained_at TEXT;
      ALTER TABLE hosts ADD COLUMN dead_at TEXT;
      ALTER TABLE hosts ADD COLUMN fence_argv TEXT;
      ALTER TABLE hosts ADD COLUMN fence_timeout_s INTEGER;
    `,
  },
  {
    version: 17,
    name: 'instances in list order: a page is a seek, not a scan and a sort',
    // The list's order and its cursor, (created_at, id): 1.55 -> 0.30 ms a page of 100 at 10,000 instances.
    sql: 'CREATE INDEX instances_by_created ON instances (created_at, id);',
  },
  {
    version: 18,
    name: "hosts' live-move addresses: where a source reaches each host's libvirtd, memory and disks (null: it takes no live moves)",
    sql: `ALTER TABLE hosts ADD COLUMN migration_uri TEXT;
          ALTER TABLE hosts ADD COLUMN migration_memory_uri TEXT;
          ALTER TABLE hosts ADD COLUMN migration_disks_uri TEXT;`,
  },
  {
    version: 19,
    name: 'replicas: frozen layers of an instance kept on a second host',
    // One replica per instance, on a host other than its own; `layers` is the JSON list of frozen
    // layer ids the replica host holds, as of `checkpoint_id` (null until its first checkpoint is copied).
    sql: `
      CREATE TABLE replicas (
        instance_id    TEXT PRIMARY KEY REFERENCES instances(id) ON DELETE CASCADE,
        host_id        TEXT NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
        checkpoint_id  TEXT,
        layers         TEXT NOT NULL DEFAULT '[]',
        bytes          INTEGER NOT NULL DEFAULT 0,
        replicated_at  TEXT,
        error          TEXT,
        created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
      );
      CREATE INDEX replicas_by_host ON replicas (host_id);
    `,
  },
  {
    version: 24,
    name: "replicas' checkpoint interval: the manager checkpoints a replicated instance that often (null: only when asked)",
    sql: 'ALTER TABLE replicas ADD COLUMN every_s INTEGER;',
  },
];

/** The version the code expects; health reports what the database holds. */
export const SCHEMA_VERSION = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);

export async function schemaVersion(db: Database): Promise<number> {
  return Number(await db.pragma('user_version'));
}

/** Applies every migration above the database's version; refuses a database newer than the code. */
export async function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): Promise<number> {
  const versions = migrations.map((m) => m.version);
  const twice = versions.find((v, i) => versions.indexOf(v) !== i);
  // Two migrations with one number: a database at that number would silently skip one of them.
  if (twice !== undefined) throw new Error(`two migrations are numbered ${twice}`);
  const current = await schemaVersion(db);
  const latest = migrations.reduce((max, m) => Math.max(max, m.version), 0);
  if (current > latest) {
    throw new Error(`database schema version ${current} is newer than this manager understands (${latest}); refusing to start`);
  }
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (m.version <= current) continue;
    await db.transaction(async (tx) => {
      await tx.exec(m.sql);
      await tx.exec(`PRAGMA user_version = ${m.version}`);
    });
  }
  return schemaVersion(db);
}
