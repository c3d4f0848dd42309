/** stormd's configuration: one schema, read from flags and environment, validated once, frozen. */
import Type, { type Static } from 'typebox';
import { type OptionSources, parseHostPort, readOptions, renderHelp, validateConfig } from '../../common/config.js';
import type { HostMigration } from '../protocol.js';
import { checkMigrationUris } from './hypervisor/live-migration.js';

export const StormdConfigSchema = Type.Object(
  {
    data: Type.String({ minLength: 1, default: '/var/lib/stormd' }),
    hypervisor: Type.String({ minLength: 1, default: 'auto' }),
    listen: Type.String({ minLength: 3, default: '0.0.0.0:9443' }),
    migrationUri: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    migrationMemoryUri: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    migrationDisksUri: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    renewBeforeDays: Type.Integer({ minimum: 1, maximum: 3650, default: 30 }),
    logLevel: Type.Union([Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'), Type.Literal('debug')], { default: 'info' }),
    logFormat: Type.Union([Type.Literal('text'), Type.Literal('json')], { default: 'text' }),
  },
  { additionalProperties: false },
);

export type StormdConfig = Readonly<Static<typeof StormdConfigSchema>>;

export const STORMD_OPTIONS: OptionSources = {
  data: { flag: 'data', env: 'STORMD_DATA', arg: 'DIR', help: 'data folder (layer store, instance layers, certificates)' },
  hypervisor: { flag: 'hypervisor', env: 'STORMD_HYPERVISOR', arg: 'URI', help: 'libvirt URI: auto, qemu:///system or test:///default' },
  listen: { flag: 'listen', env: 'STORMD_LISTEN', arg: 'HOST:PORT', help: 'where the mutual-TLS API listens (port 0: any free port)' },
  migrationUri: {
    flag: 'migration-uri',
    env: 'STORMD_MIGRATION_URI',
    arg: 'URI',
    help: "this host's libvirtd as its peers' libvirtds reach it for a live move, e.g. qemu+tls://host-b/system (absent: live moves to this host are refused; they move cold)",
  },
  migrationMemoryUri: {
    flag: 'migration-memory-uri',
    env: 'STORMD_MIGRATION_MEMORY_URI',
    arg: 'URI',
    help: "where this host's QEMU takes a live move's memory (tcp://ADDR[:PORT] or unix:///path; default: libvirt's choice)",
  },
  migrationDisksUri: {
    flag: 'migration-disks-uri',
    env: 'STORMD_MIGRATION_DISKS_URI',
    arg: 'URI',
    help: "where this host's NBD server takes a live move's disks (tcp://ADDR[:PORT] or unix:///path; default: libvirt's choice)",
  },
  renewBeforeDays: {
    flag: 'renew-before-days',
    env: 'STORMD_RENEW_BEFORE_DAYS',
    kind: 'integer',
    arg: 'DAYS',
    help: 'renew the host certificate when it has fewer days left (default 30; checked at start and every 12 h)',
  },
  logLevel: { flag: 'log-level', env: 'STORMD_LOG_LEVEL', arg: 'LEVEL', help: 'error|warn|info|debug' },
  logFormat: {
    flag: 'log-format',
    env: 'STORMD_LOG_FORMAT',
    arg: 'FORMAT',
    help: 'text (one readable line per event, the default) or json (for log shippers)',
  },
};

export const STORMD_USAGE =
  'usage: stormd [--data DIR] [--listen HOST:PORT] [--hypervisor URI] [--migration-uri URI] [--renew-before-days DAYS] [--log-level LEVEL] [--log-format text|json]\n       stormd join MANAGER_URL --token TOKEN [--data DIR] [--name NAME] [--url URL] [--force]';
export const STORMD_SUMMARY =
  'The STORM host daemon: stages layers, creates instance layers, runs appliance domains over libvirt.\n' +
  "It serves HTTPS to its manager only (client certificates from the manager's CA), so the host must\n" +
  'join a manager first: see `stormd join --help`.';

export function loadStormdConfig(argv: readonly string[], env: NodeJS.ProcessEnv): { config: StormdConfig } | { help: string } {
  const { values, help, positionals } = readOptions(STORMD_OPTIONS, argv, env);
  if (help) return { help: renderHelp(STORMD_USAGE, STORMD_SUMMARY, STORMD_OPTIONS) };
  if (positionals.length) throw new Error(`unexpected argument ${positionals[0]}\n${STORMD_USAGE}`);
  const config = validateConfig(StormdConfigSchema, values);
  parseHostPort(config.listen, 'listen'); // a bad --listen fails here, with the flag named
  // A bad migration URI fails here, not at the first live move towards this host.
  if (config.migrationUri)
    checkMigrationUris({ targetUri: config.migrationUri, migrateUri: config.migrationMemoryUri, disksUri: config.migrationDisksUri });
  else if (config.migrationMemoryUri || config.migrationDisksUri)
    throw new Error('--migration-memory-uri and --migration-disks-uri need --migration-uri');
  return { config };
}

/** What the host tells the manager of where it takes live moves; undefined without `--migration-uri`. */
export function migrationOf(config: StormdConfig): HostMigration | undefined {
  if (!config.migrationUri) return undefined;
  return {
    uri: config.migrationUri,
    ...(config.migrationMemoryUri ? { memoryUri: config.migrationMemoryUri } : {}),
    ...(config.migrationDisksUri ? { disksUri: config.migrationDisksUri } : {}),
  };
}
