/** The manager's configuration: one schema, read from flags and environment, validated once, frozen. */
import Type, { type Static } from 'typebox';
import { ConfigError, type OptionSources, parseHostPort, readOptions, renderHelp, validateConfig } from '../../common/config.js';
import { AddressPolicy } from './net/address-policy.js';

export const ManagerConfigSchema = Type.Object(
  {
    data: Type.String({ minLength: 1, default: './data', description: 'folder for the database, tokens and caches' }),
    listen: Type.String({ pattern: '^(\\[[^\\]]+\\]|[^:]*):\\d{1,5}$', default: '127.0.0.1:8443' }),
    /** The HTTPS URL hosts and appliances reach the manager at; empty: derived from the listener. */
    publicUrl: Type.String({ default: '' }),
    /** Extra names and addresses for the manager's HTTPS certificate (storm.local is always there). */
    tlsNames: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
    heartbeatSeconds: Type.Integer({ minimum: 1, maximum: 600, default: 10 }),
    missedHeartbeats: Type.Integer({ minimum: 2, maximum: 100, default: 3 }),
    reconcileSeconds: Type.Integer({ minimum: 0, default: 60 }),
    /** Host bridge appliance NICs join; empty: instances get no NIC. */
    bridge: Type.String({ default: '' }),
    /** Where the local stormd (with --local-host) listens. */
    localHostListen: Type.String({ pattern: '^(\\[[^\\]]+\\]|[^:]*):\\d{1,5}$', default: '127.0.0.1:9443' }),
    /** libvirt URI of the local host's hypervisor; `auto` picks qemu:///system where libvirtd answers. */
    hypervisor: Type.String({ minLength: 1, default: 'auto' }),
    /** Start and supervise a stormd on this machine. */
    localHost: Type.Boolean({ default: false }),
    allowUnsignedChannels: Type.Boolean({ default: false }),
    /** CIDRs channel and layer URLs may resolve to although the default policy denies them (e.g. 127.0.0.0/8). */
    channelAllow: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
    channelDeny: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
    /** Background refresh of every channel; 0 turns it off. */
    channelPollSeconds: Type.Integer({ minimum: 0, default: 300 }),
    fetchTimeoutSeconds: Type.Integer({ minimum: 1, maximum: 3600, default: 30 }),
    /** File holding the console's admin password, (re)applied at every start; empty: generated once and printed. */
    adminPasswordFile: Type.String({ default: '' }),
    logLevel: Type.Union([Type.Literal('fatal'), Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'), Type.Literal('debug'), Type.Literal('trace'), Type.Literal('silent')], { default: 'info' }),
  },
  { additionalProperties: false },
);

export type ManagerConfig = Readonly<Static<typeof ManagerConfigSchema>>;

export const MANAGER_OPTIONS: OptionSources = {
  data: { flag: 'data', env: 'STORM_DATA', arg: 'DIR', help: 'data folder (database, admin token, caches)' },
  listen: { flag: 'listen', env: 'STORM_LISTEN', arg: 'HOST:PORT', help: 'HTTPS address of the API and console (default 127.0.0.1:8443)' },
  publicUrl: { flag: 'public-url', env: 'STORM_PUBLIC_URL', arg: 'URL', help: 'https URL hosts and appliances reach the manager at (default: from --listen)' },
  tlsNames: { flag: 'tls-name', env: 'STORM_TLS_NAMES', kind: 'list', arg: 'NAME', help: "extra name or address for the manager's certificate (repeatable)" },
  heartbeatSeconds: { flag: 'heartbeat', env: 'STORM_HEARTBEAT', kind: 'integer', arg: 'SECONDS', help: 'host heartbeat interval (default 10)' },
  missedHeartbeats: { flag: 'missed-heartbeats', env: 'STORM_MISSED_HEARTBEATS', kind: 'integer', arg: 'N', help: 'heartbeats a host may miss before it is unreachable (default 3)' },
  reconcileSeconds: { flag: 'reconcile', env: 'STORM_RECONCILE', kind: 'integer', arg: 'SECONDS', help: 'reconcile hosts and database this often (default 60; 0: only at start)' },
  bridge: { flag: 'bridge', env: 'STORM_BRIDGE', arg: 'BRIDGE', help: 'host bridge the appliances NICs join (default: no NIC)' },
  localHostListen: { flag: 'local-host-listen', env: 'STORM_LOCAL_HOST_LISTEN', arg: 'HOST:PORT', help: 'where the local stormd listens (default 127.0.0.1:9443)' },
  hypervisor: { flag: 'hypervisor', env: 'STORM_HYPERVISOR', arg: 'URI', help: 'local host hypervisor: auto, qemu:///system or test:///default' },
  localHost: { flag: 'local-host', env: 'STORM_LOCAL_HOST', kind: 'boolean', help: 'start and supervise a stormd on this machine' },
  allowUnsignedChannels: { flag: 'allow-unsigned-channels', env: 'STORM_ALLOW_UNSIGNED_CHANNELS', kind: 'boolean', help: 'accept channel subscriptions without a publisher key' },
  channelAllow: { flag: 'channel-allow', env: 'STORM_CHANNEL_ALLOW', kind: 'list', arg: 'CIDR', help: 'let channel URLs resolve into CIDR (repeatable; loopback is denied by default)' },
  channelDeny: { flag: 'channel-deny', env: 'STORM_CHANNEL_DENY', kind: 'list', arg: 'CIDR', help: 'never fetch channels from CIDR (repeatable)' },
  channelPollSeconds: { flag: 'channel-poll', env: 'STORM_CHANNEL_POLL', kind: 'integer', arg: 'SECONDS', help: 'refresh every channel this often (default 300; 0: off)' },
  fetchTimeoutSeconds: { flag: 'fetch-timeout', env: 'STORM_FETCH_TIMEOUT', kind: 'integer', arg: 'SECONDS', help: 'deadline for a channel server to answer (default 30)' },
  adminPasswordFile: { flag: 'admin-password-file', env: 'STORM_ADMIN_PASSWORD_FILE', arg: 'FILE', help: "the console admin's password (first line of FILE), set at every start (default: generated once and printed)" },
  logLevel: { flag: 'log-level', env: 'STORM_LOG_LEVEL', arg: 'LEVEL', help: 'fatal|error|warn|info|debug|trace|silent' },
};

export const MANAGER_USAGE = 'usage: storm-manager [--data DIR] [--listen HOST:PORT] [--local-host [--hypervisor URI]] [options]';
export const MANAGER_SUMMARY = 'The STORM manager: REST API, web console, channels, hosts and the appliance network services.';

/** Parses argv and env into a frozen config, or returns `help` when `--help` was asked. */
export function loadManagerConfig(argv: readonly string[], env: NodeJS.ProcessEnv): { config: ManagerConfig } | { help: string } {
  const { values, help, positionals } = readOptions(MANAGER_OPTIONS, argv, env);
  if (help) return { help: renderHelp(MANAGER_USAGE, MANAGER_SUMMARY, MANAGER_OPTIONS) };
  if (positionals.length) throw new Error(`unexpected argument ${positionals[0]}\n${MANAGER_USAGE}`);
  const config = validateConfig(ManagerConfigSchema, values);
  parseHostPort(config.listen, 'listen');
  parseHostPort(config.localHostListen, 'local-host-listen');
  if (config.publicUrl && !/^https:\/\/[^/]+\/?$/.test(config.publicUrl)) throw new ConfigError([`--public-url: expected https://HOST[:PORT], got ${JSON.stringify(config.publicUrl)}`]);
  try {
    AddressPolicy.validate([...config.channelAllow, ...config.channelDeny]);
  } catch (err) {
    throw new ConfigError([`--channel-allow/--channel-deny: ${err instanceof Error ? err.message : String(err)}`]);
  }
  return { config };
}

/** A complete config for tests and embedders: schema defaults plus overrides. */
export function managerConfig(overrides: Partial<Static<typeof ManagerConfigSchema>> = {}): ManagerConfig {
  return validateConfig(ManagerConfigSchema, { ...overrides });
}
