/** The manager's configuration: one schema, read from flags and environment, validated once, frozen. */
import Type, { type Static } from 'typebox';
import { ConfigError, type OptionSources, parseHostPort, readOptions, renderHelp, validateConfig } from '../../common/config.js';
import { AddressPolicy } from './outbound/address-policy.js';
import { resolveLdapConfig } from './protocols/ldap/config.js';

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
    /**
     * The local host's data (layer store, instance disks, its key). Outside the manager's private data
     * folder: libvirt's qemu user must traverse to the disks, and no one else may read them.
     */
    localHostData: Type.String({ minLength: 1, default: '/var/lib/storm/local-host' }),
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
    /** The zone instances are named in (`<instance>.<domain>`). */
    domain: Type.String({ pattern: '^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$', default: 'storm.internal' }),
    /** The appliance network (IPv4 CIDR); empty: instances get no reserved address. */
    network: Type.String({ default: '' }),
    /** The manager's address on the appliance network (storm.local); default: the network's first address. */
    managerAddress: Type.String({ default: '' }),
    /** Router handed out by DHCP; empty: none, or the manager's address with `--uplink nat`. */
    router: Type.String({ default: '' }),
    dnsListen: Type.String({ default: '' }),
    dnsUpstream: Type.String({ default: '' }),
    dhcpInterface: Type.String({ default: '' }),
    /**
     * The appliance network's way out: `nat` masquerades it through the host's route (nftables table
     * `inet storm`) and lets in only return traffic and the administrator's forwards; `none` leaves it closed.
     */
    uplink: Type.Union([Type.Literal('none'), Type.Literal('nat')], { default: 'none' }),
    /** Dynamic DHCP pool `START-END` for MACs without a reservation; empty: unknown MACs get nothing. */
    dhcpPool: Type.String({ default: '' }),
    dhcpLeaseSeconds: Type.Integer({ minimum: 60, default: 3600 }),
    ldapListen: Type.String({ default: '' }),
    /** The directory's base DN; empty: from --domain (dc=storm,dc=internal). */
    ldapBaseDn: Type.String({ default: '' }),
    /** Refuse LDAP binds until the client has done StartTLS. */
    ldapRequireTls: Type.Boolean({ default: false }),
    /** The Kerberos KDC for the realm of --domain (UDP and TCP); empty: no KDC. */
    kdcListen: Type.String({ default: '' }),
    /** A listener for guests only (XML-RPC), with TLS minimal guest clients speak; empty: none. */
    guestListen: Type.String({ default: '' }),
    /** The XML-RPC URL written into every instance; default https://storm.local:<guest or main port>/RPC2. */
    guestUrl: Type.String({ default: '' }),
    logLevel: Type.Union(
      [
        Type.Literal('fatal'),
        Type.Literal('error'),
        Type.Literal('warn'),
        Type.Literal('info'),
        Type.Literal('debug'),
        Type.Literal('trace'),
        Type.Literal('silent'),
      ],
      { default: 'info' },
    ),
    logFormat: Type.Union([Type.Literal('text'), Type.Literal('json')], { default: 'text' }),
  },
  { additionalProperties: false },
);

export type ManagerConfig = Readonly<Static<typeof ManagerConfigSchema>>;

export const MANAGER_OPTIONS: OptionSources = {
  data: { flag: 'data', env: 'STORM_DATA', arg: 'DIR', help: 'data folder (database, admin token, caches)' },
  listen: { flag: 'listen', env: 'STORM_LISTEN', arg: 'HOST:PORT', help: 'HTTPS address of the API and console (default 127.0.0.1:8443)' },
  publicUrl: {
    flag: 'public-url',
    env: 'STORM_PUBLIC_URL',
    arg: 'URL',
    help: 'https URL hosts and appliances reach the manager at (default: from --listen)',
  },
  tlsNames: {
    flag: 'tls-name',
    env: 'STORM_TLS_NAMES',
    kind: 'list',
    arg: 'NAME',
    help: "extra name or address for the manager's certificate (repeatable)",
  },
  heartbeatSeconds: {
    flag: 'heartbeat',
    env: 'STORM_HEARTBEAT',
    kind: 'integer',
    arg: 'SECONDS',
    help: 'host heartbeat interval (default 10)',
  },
  missedHeartbeats: {
    flag: 'missed-heartbeats',
    env: 'STORM_MISSED_HEARTBEATS',
    kind: 'integer',
    arg: 'N',
    help: 'heartbeats a host may miss before it is unreachable (default 3)',
  },
  reconcileSeconds: {
    flag: 'reconcile',
    env: 'STORM_RECONCILE',
    kind: 'integer',
    arg: 'SECONDS',
    help: 'reconcile hosts and database this often (default 60; 0: only at start)',
  },
  bridge: { flag: 'bridge', env: 'STORM_BRIDGE', arg: 'BRIDGE', help: 'host bridge the appliances NICs join (default: no NIC)' },
  localHostData: {
    flag: 'local-host-data',
    env: 'STORM_LOCAL_HOST_DATA',
    arg: 'DIR',
    help: "the local stormd's data folder (default /var/lib/storm/local-host; qemu must reach it)",
  },
  localHostListen: {
    flag: 'local-host-listen',
    env: 'STORM_LOCAL_HOST_LISTEN',
    arg: 'HOST:PORT',
    help: 'where the local stormd listens (default 127.0.0.1:9443)',
  },
  hypervisor: {
    flag: 'hypervisor',
    env: 'STORM_HYPERVISOR',
    arg: 'URI',
    help: 'local host hypervisor: auto, qemu:///system or test:///default',
  },
  localHost: { flag: 'local-host', env: 'STORM_LOCAL_HOST', kind: 'boolean', help: 'start and supervise a stormd on this machine' },
  allowUnsignedChannels: {
    flag: 'allow-unsigned-channels',
    env: 'STORM_ALLOW_UNSIGNED_CHANNELS',
    kind: 'boolean',
    help: 'accept channel subscriptions without a publisher key',
  },
  channelAllow: {
    flag: 'channel-allow',
    env: 'STORM_CHANNEL_ALLOW',
    kind: 'list',
    arg: 'CIDR',
    help: 'let channel URLs resolve into CIDR (repeatable; loopback is denied by default)',
  },
  channelDeny: {
    flag: 'channel-deny',
    env: 'STORM_CHANNEL_DENY',
    kind: 'list',
    arg: 'CIDR',
    help: 'never fetch channels from CIDR (repeatable)',
  },
  channelPollSeconds: {
    flag: 'channel-poll',
    env: 'STORM_CHANNEL_POLL',
    kind: 'integer',
    arg: 'SECONDS',
    help: 'refresh every channel this often (default 300; 0: off)',
  },
  fetchTimeoutSeconds: {
    flag: 'fetch-timeout',
    env: 'STORM_FETCH_TIMEOUT',
    kind: 'integer',
    arg: 'SECONDS',
    help: 'deadline for a channel server to answer (default 30)',
  },
  adminPasswordFile: {
    flag: 'admin-password-file',
    env: 'STORM_ADMIN_PASSWORD_FILE',
    arg: 'FILE',
    help: "the console admin's password (first line of FILE), set at every start (default: generated once and printed)",
  },
  domain: { flag: 'domain', env: 'STORM_DOMAIN', arg: 'ZONE', help: 'DNS zone instances are named in (default storm.internal)' },
  network: {
    flag: 'network',
    env: 'STORM_NETWORK',
    arg: 'CIDR',
    help: 'appliance network; instances get addresses from it (e.g. 10.77.0.0/24)',
  },
  managerAddress: {
    flag: 'manager-address',
    env: 'STORM_MANAGER_ADDRESS',
    arg: 'IP',
    help: "the manager's address on the appliance network, storm.local (default: first address)",
  },
  router: {
    flag: 'router',
    env: 'STORM_ROUTER',
    arg: 'IP',
    help: "router DHCP hands out (default: none; with --uplink nat, the manager's address)",
  },
  dnsListen: { flag: 'dns-listen', env: 'STORM_DNS_LISTEN', arg: 'HOST:PORT', help: 'serve DNS here (off when absent)' },
  dnsUpstream: {
    flag: 'dns-upstream',
    env: 'STORM_DNS_UPSTREAM',
    arg: 'IP:PORT',
    help: 'resolver for names outside the zone (default: refused)',
  },
  dhcpInterface: {
    flag: 'dhcp-interface',
    env: 'STORM_DHCP_INTERFACE',
    arg: 'IFACE',
    help: 'serve DHCP on the appliance network through IFACE (off when absent)',
  },
  uplink: {
    flag: 'uplink',
    env: 'STORM_UPLINK',
    arg: 'none|nat',
    help: "the appliance network's way out: nat masquerades it out through the host's route and lets in only replies and `storm network forward`s; none (default) leaves it closed",
  },
  dhcpPool: { flag: 'dhcp-pool', env: 'STORM_DHCP_POOL', arg: 'START-END', help: 'dynamic addresses for unknown MACs (default: none)' },
  dhcpLeaseSeconds: {
    flag: 'dhcp-lease',
    env: 'STORM_DHCP_LEASE',
    kind: 'integer',
    arg: 'SECONDS',
    help: 'DHCP lease time (default 3600)',
  },
  ldapListen: { flag: 'ldap-listen', env: 'STORM_LDAP_LISTEN', arg: 'HOST:PORT', help: 'serve the LDAP directory here (off when absent)' },
  ldapBaseDn: { flag: 'ldap-base-dn', env: 'STORM_LDAP_BASE_DN', arg: 'DN', help: 'base DN of the directory (default: from --domain)' },
  ldapRequireTls: {
    flag: 'ldap-require-tls',
    env: 'STORM_LDAP_REQUIRE_TLS',
    kind: 'boolean',
    help: 'refuse LDAP binds in clear text: clients must StartTLS first (it is always offered)',
  },
  kdcListen: {
    flag: 'kdc-listen',
    env: 'STORM_KDC_LISTEN',
    arg: 'HOST:PORT',
    help: "run MIT's Kerberos KDC for the realm of --domain here, UDP and TCP (off when absent; e.g. 10.77.0.1:88)",
  },
  guestListen: {
    flag: 'guest-listen',
    env: 'STORM_GUEST_LISTEN',
    arg: 'HOST:PORT',
    help: 'XML-RPC for appliances only (an ECDSA certificate: cheap handshakes for a boot storm)',
  },
  guestUrl: {
    flag: 'guest-url',
    env: 'STORM_GUEST_URL',
    arg: 'URL',
    help: 'XML-RPC URL written into instances (default https://storm.local:PORT/RPC2)',
  },
  logLevel: { flag: 'log-level', env: 'STORM_LOG_LEVEL', arg: 'LEVEL', help: 'fatal|error|warn|info|debug|trace|silent' },
  logFormat: {
    flag: 'log-format',
    env: 'STORM_LOG_FORMAT',
    arg: 'FORMAT',
    help: 'text (one readable line per event, the default) or json (for log shippers)',
  },
};

export const MANAGER_USAGE =
  'usage: storm-manager [--data DIR] [--listen HOST:PORT] [--local-host [--hypervisor URI]] [options]\n' +
  '       storm-manager backup --to FILE | --list FILE [--data DIR]    back up a data folder (see backup --help)\n' +
  '       storm-manager restore --from FILE --data DIR                  restore one (see restore --help)';
export const MANAGER_SUMMARY = 'The STORM manager: REST API, web console, channels, hosts and the appliance network services.';

/** Parses argv and env into a frozen config, or returns `help` when `--help` was asked. */
export function loadManagerConfig(argv: readonly string[], env: NodeJS.ProcessEnv): { config: ManagerConfig } | { help: string } {
  const { values, help, positionals } = readOptions(MANAGER_OPTIONS, argv, env);
  if (help) return { help: renderHelp(MANAGER_USAGE, MANAGER_SUMMARY, MANAGER_OPTIONS) };
  if (positionals.length) throw new Error(`unexpected argument ${positionals[0]}\n${MANAGER_USAGE}`);
  const config = validateConfig(ManagerConfigSchema, values);
  parseHostPort(config.listen, 'listen');
  parseHostPort(config.localHostListen, 'local-host-listen');
  if (config.guestListen) parseHostPort(config.guestListen, 'guest-listen');
  if (config.kdcListen) parseHostPort(config.kdcListen, 'kdc-listen');
  if (config.ldapListen) {
    try {
      resolveLdapConfig({ listen: config.ldapListen, ...(config.ldapBaseDn ? { baseDn: config.ldapBaseDn } : {}), domain: config.domain });
    } catch (err) {
      throw new ConfigError([`--ldap-listen/--ldap-base-dn: ${err instanceof Error ? err.message : String(err)}`]);
    }
  }
  if (config.uplink === 'nat' && (!config.network || !config.bridge))
    throw new ConfigError(['--uplink nat: needs the appliance network it opens, --network CIDR and --bridge BRIDGE']);
  if (config.publicUrl && !/^https:\/\/[^/]+\/?$/.test(config.publicUrl))
    throw new ConfigError([`--public-url: expected https://HOST[:PORT], got ${JSON.stringify(config.publicUrl)}`]);
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
