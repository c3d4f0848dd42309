/**
 * The flags of `storm-manager backup` and `storm-manager restore`: one schema each, read from flags
 * and environment (`--data` also from STORM_DATA, as the manager reads it), validated once, frozen.
 *
 * @example
 * loadBackupConfig(['--to', '/backups/m.stormbak', '--data', '/var/lib/storm/manager'], process.env);
 * loadRestoreConfig(['--from', '/backups/m.stormbak', '--data', '/var/lib/storm/manager'], process.env);
 */
import Type, { type Static } from 'typebox';
import { ConfigError, type OptionSources, readOptions, renderHelp, validateConfig } from '../../../common/config.js';

const PASSPHRASE_HELP = "the passphrase is this file's first line (default: asked on the terminal, no echo)";

export const BackupConfigSchema = Type.Object(
  {
    data: Type.String({ minLength: 1, default: './data' }),
    to: Type.String({ default: '' }),
    list: Type.String({ default: '' }),
    passphraseFile: Type.String({ default: '' }),
  },
  { additionalProperties: false },
);
export type BackupConfig = Readonly<Static<typeof BackupConfigSchema>>;

export const BACKUP_OPTIONS: OptionSources = {
  to: { flag: 'to', arg: 'FILE', help: 'write a new backup to FILE (replaced only once the new one is complete)' },
  list: { flag: 'list', arg: 'FILE', help: 'check every byte of the backup FILE and list what it holds and what it left out' },
  data: { flag: 'data', env: 'STORM_DATA', arg: 'DIR', help: "the manager's data folder to back up (default ./data)" },
  passphraseFile: { flag: 'passphrase-file', arg: 'FILE', help: PASSPHRASE_HELP },
};

export const BACKUP_USAGE =
  'usage: storm-manager backup --to FILE [--data DIR] [--passphrase-file FILE]\n       storm-manager backup --list FILE [--passphrase-file FILE]';
export const BACKUP_SUMMARY =
  "Backs up a manager's data folder while the manager runs: a VACUUM INTO snapshot of the database,\n" +
  "the CA and its key, the manager certificates, the admin token and the local channel's key (and the\n" +
  'layers of packaged appliances). The layer cache is left out: layers are fetched again from their\n' +
  "channels. Encrypted with a passphrase (scrypt, AES-256-GCM in authenticated chunks); a new backup's\n" +
  'passphrase has at least 12 characters and is asked twice on a terminal. See docs/backup.md.';

export const RestoreConfigSchema = Type.Object(
  {
    from: Type.String({ minLength: 1 }),
    data: Type.String({ minLength: 1 }),
    passphraseFile: Type.String({ default: '' }),
    force: Type.Boolean({ default: false }),
  },
  { additionalProperties: false },
);
export type RestoreConfig = Readonly<Static<typeof RestoreConfigSchema>>;

export const RESTORE_OPTIONS: OptionSources = {
  from: { flag: 'from', arg: 'FILE', help: 'the backup to restore' },
  data: { flag: 'data', env: 'STORM_DATA', arg: 'DIR', help: 'the data folder to create; the manager then starts with --data DIR' },
  passphraseFile: { flag: 'passphrase-file', arg: 'FILE', help: PASSPHRASE_HELP },
  force: { flag: 'force', kind: 'boolean', help: 'DIR may hold files: move it aside to DIR.replaced-<time>, then restore' },
};

export const RESTORE_USAGE = 'usage: storm-manager restore --from FILE --data DIR [--passphrase-file FILE] [--force]';
export const RESTORE_SUMMARY =
  'Restores a backup into a new data folder. Every chunk and file is decrypted and checked into a\n' +
  'temporary folder beside DIR, which is renamed to DIR only when all of it is intact: a wrong\n' +
  'passphrase, a changed byte or a cut-short file changes nothing. DIR must be new or empty unless\n' +
  '--force. Stop the old manager first: one manager per CA at a time. Start the restored one where\n' +
  'its hosts expect it (the URL `restore` prints); they reconnect with their next heartbeat.';

export function loadBackupConfig(argv: readonly string[], env: NodeJS.ProcessEnv): { config: BackupConfig } | { help: string } {
  const { values, help, positionals } = readOptions(BACKUP_OPTIONS, argv, env);
  if (help) return { help: renderHelp(BACKUP_USAGE, BACKUP_SUMMARY, BACKUP_OPTIONS) };
  if (positionals.length) throw new ConfigError([`unexpected argument ${positionals[0]}`, BACKUP_USAGE]);
  const config = validateConfig(BackupConfigSchema, values);
  if (!config.to === !config.list)
    throw new ConfigError(['give exactly one of --to FILE (make a backup) and --list FILE (check and list one)', BACKUP_USAGE]);
  return { config };
}

export function loadRestoreConfig(argv: readonly string[], env: NodeJS.ProcessEnv): { config: RestoreConfig } | { help: string } {
  const { values, help, positionals } = readOptions(RESTORE_OPTIONS, argv, env);
  if (help) return { help: renderHelp(RESTORE_USAGE, RESTORE_SUMMARY, RESTORE_OPTIONS) };
  if (positionals.length) throw new ConfigError([`unexpected argument ${positionals[0]}`, RESTORE_USAGE]);
  const missing = ['from', 'data'].filter((k) => values[k] === undefined).map((k) => `--${k} is required`);
  if (missing.length) throw new ConfigError([...missing, RESTORE_USAGE]);
  return { config: validateConfig(RestoreConfigSchema, values) };
}
