/** The manager's configuration: one schema, read from flags and environment, validated once, frozen. */
import Type, { type Static } from 'typebox';
import { type OptionSources, parseHostPort, readOptions, renderHelp, validateConfig } from '../../common/config.js';

export const ManagerConfigSchema = Type.Object(
  {
    data: Type.String({ minLength: 1, default: './data', description: 'folder for the database, tokens and caches' }),
    listen: Type.String({ pattern: '^(\\[[^\\]]+\\]|[^:]*):\\d{1,5}$', default: '127.0.0.1:8080' }),
    /** libvirt URI of the local host's hypervisor; `auto` picks qemu:///system where libvirtd answers. */
    hypervisor: Type.String({ minLength: 1, default: 'auto' }),
    /** Start and supervise a stormd on this machine. */
    localHost: Type.Boolean({ default: false }),
    logLevel: Type.Union([Type.Literal('fatal'), Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'), Type.Literal('debug'), Type.Literal('trace'), Type.Literal('silent')], { default: 'info' }),
  },
  { additionalProperties: false },
);

export type ManagerConfig = Readonly<Static<typeof ManagerConfigSchema>>;

export const MANAGER_OPTIONS: OptionSources = {
  data: { flag: 'data', env: 'STORM_DATA', arg: 'DIR', help: 'data folder (database, admin token, caches)' },
  listen: { flag: 'listen', env: 'STORM_LISTEN', arg: 'HOST:PORT', help: 'address of the API and console (default 127.0.0.1:8080)' },
  hypervisor: { flag: 'hypervisor', env: 'STORM_HYPERVISOR', arg: 'URI', help: 'local host hypervisor: auto, qemu:///system or test:///default' },
  localHost: { flag: 'local-host', env: 'STORM_LOCAL_HOST', kind: 'boolean', help: 'start and supervise a stormd on this machine' },
  logLevel: { flag: 'log-level', env: 'STORM_LOG_LEVEL', arg: 'LEVEL', help: 'fatal|error|warn|info|debug|trace|silent' },
};

export const MANAGER_USAGE = 'usage: storm-manager [--data DIR] [--listen HOST:PORT] [--local-host] [--hypervisor URI]';
export const MANAGER_SUMMARY = 'The STORM manager: REST API, web console, channels, hosts and the appliance network services.';

/** Parses argv and env into a frozen config, or returns `help` when `--help` was asked. */
export function loadManagerConfig(argv: readonly string[], env: NodeJS.ProcessEnv): { config: ManagerConfig } | { help: string } {
  const { values, help, positionals } = readOptions(MANAGER_OPTIONS, argv, env);
  if (help) return { help: renderHelp(MANAGER_USAGE, MANAGER_SUMMARY, MANAGER_OPTIONS) };
  if (positionals.length) throw new Error(`unexpected argument ${positionals[0]}\n${MANAGER_USAGE}`);
  const config = validateConfig(ManagerConfigSchema, values);
  parseHostPort(config.listen, 'listen');
  return { config };
}

/** A complete config for tests and embedders: schema defaults plus overrides. */
export function managerConfig(overrides: Partial<Static<typeof ManagerConfigSchema>> = {}): ManagerConfig {
  return validateConfig(ManagerConfigSchema, { ...overrides });
}
