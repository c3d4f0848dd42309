/** stormd's configuration: one schema, read from flags and environment, validated once, frozen. */
import Type, { type Static } from 'typebox';
import { type OptionSources, parseHostPort, readOptions, renderHelp, validateConfig } from '../../common/config.js';

export const StormdConfigSchema = Type.Object(
  {
    data: Type.String({ minLength: 1, default: '/var/lib/stormd' }),
    hypervisor: Type.String({ minLength: 1, default: 'auto' }),
    listen: Type.String({ minLength: 3, default: '0.0.0.0:9443' }),
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
  'usage: stormd [--data DIR] [--listen HOST:PORT] [--hypervisor URI] [--renew-before-days DAYS] [--log-level LEVEL] [--log-format text|json]\n       stormd join MANAGER_URL --token TOKEN [--data DIR] [--name NAME] [--url URL] [--force]';
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
  return { config };
}
