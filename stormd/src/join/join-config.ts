/**
 * `stormd join`'s flags: one schema, read from flags and environment (the token may come from
 * STORMD_JOIN_TOKEN so it stays out of `ps`), validated once, frozen.
 *
 * @example
 * loadJoinConfig(['https://m:8443', '--token', t, '--data', '/var/lib/stormd'], process.env);
 * // { config: { managerUrl: 'https://m:8443', token: t, data: '/var/lib/stormd', name: os.hostname(), url: 'https://<hostname>:9443', force: false } }
 */
import { hostname } from 'node:os';
import Type, { type Static } from 'typebox';
import { ConfigError, type OptionSources, readOptions, renderHelp, validateConfig } from '../../../common/config.js';

export const JoinConfigSchema = Type.Object(
  {
    managerUrl: Type.String({ pattern: '^https://' }),
    token: Type.String({ minLength: 1 }),
    data: Type.String({ minLength: 1, default: '/var/lib/stormd' }),
    name: Type.String({ minLength: 1, maxLength: 253 }),
    url: Type.String({ pattern: '^https://' }),
    force: Type.Boolean({ default: false }),
  },
  { additionalProperties: false },
);

export type JoinConfig = Readonly<Static<typeof JoinConfigSchema>>;

export const JOIN_OPTIONS: OptionSources = {
  token: { flag: 'token', env: 'STORMD_JOIN_TOKEN', arg: 'TOKEN', help: 'the enrolment token the manager printed (single use)' },
  data: { flag: 'data', env: 'STORMD_DATA', arg: 'DIR', help: 'data folder where the key, certificates and host.json go' },
  name: { flag: 'name', env: 'STORMD_NAME', arg: 'NAME', help: "this host's name (its certificate's name); default: the hostname" },
  url: { flag: 'url', env: 'STORMD_URL', arg: 'URL', help: 'where the manager reaches this stormd; default: https://NAME:9443' },
  force: { flag: 'force', kind: 'boolean', help: 'join again, replacing an earlier join' },
};

export const JOIN_USAGE = 'usage: stormd join MANAGER_URL --token TOKEN [--data DIR] [--name NAME] [--url URL] [--force]';
export const JOIN_SUMMARY =
  "Enrols this host with a STORM manager: checks the manager's CA against the token's fingerprint\n" +
  'before sending anything, then sends a certificate request and stores the key, the certificates,\n' +
  'the CRL and host.json in the data folder. Afterwards start `stormd --data DIR`.';

export function loadJoinConfig(argv: readonly string[], env: NodeJS.ProcessEnv): { config: JoinConfig } | { help: string } {
  const { values, help, positionals } = readOptions(JOIN_OPTIONS, argv, env);
  if (help) return { help: renderHelp(JOIN_USAGE, JOIN_SUMMARY, JOIN_OPTIONS) };
  if (positionals.length !== 1) throw new ConfigError([`expected exactly one MANAGER_URL, got ${positionals.length}`, JOIN_USAGE]);
  if (values['token'] === undefined) throw new ConfigError(['--token (STORMD_JOIN_TOKEN) is required', JOIN_USAGE]);
  const name = typeof values['name'] === 'string' ? values['name'] : hostname();
  const url = typeof values['url'] === 'string' ? values['url'] : `https://${name}:9443`;
  return { config: validateConfig(JoinConfigSchema, { ...values, managerUrl: positionals[0], name, url }) };
}
