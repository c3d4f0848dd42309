/**
 * Command line of `npm run build:appliances`: flags → frozen, validated options.
 */
import { isAbsolute, resolve } from 'node:path';
import Type, { type Static } from 'typebox';
import { readOptions, renderHelp, validateConfig, type OptionSources } from '../../common/config.js';
import { ApplErr } from './errors.js';
import { APPLIANCES_DIR } from './layers.js';

export const CliSchema = Type.Object(
  {
    out: Type.String({ minLength: 1 }),
    force: Type.Boolean({ default: false }),
    debian: Type.Boolean({ default: false }),
  },
  { additionalProperties: false },
);
export type CliOptions = Static<typeof CliSchema>;

export const CLI_SOURCES: OptionSources = {
  out: { flag: 'out', arg: 'DIR', help: 'output directory (default appliances/build)' },
  force: { flag: 'force', kind: 'boolean', help: 'rebuild every step (downloaded .debs stay cached)' },
  debian: {
    flag: 'debian',
    kind: 'boolean',
    help: 'also build debian-jeos, nginx-web, postfix-mail, ssh-kerberos and storm-manager (needs npm run build) from their recipes',
  },
};

export const HELP = renderHelp(
  'usage: npm run build:appliances -- [--out DIR] [--force] [--debian]',
  "Builds the guest kernel and modules (from Debian's kernel package), the STORM initrd and the\n" +
    'sample layers (tiny-os, hello-web 1.0.0 and 1.1.0); steps already up to date are skipped.\n' +
    'With --debian, also the Debian substrate and its appliances (docs/recipes.md), which join the\n' +
    'sample channel.',
  CLI_SOURCES,
);

export type ParsedCli = { readonly help: true } | { readonly help: false; readonly options: CliOptions };

/** Parses argv; `--out` is resolved against `cwd`, its default is `appliances/build`. */
export function parseCli(argv: readonly string[], cwd: string): ParsedCli {
  let args;
  try {
    args = readOptions(CLI_SOURCES, argv, {});
  } catch (cause) {
    throw ApplErr.APPL_ERR_USAGE((cause as Error).message, { cause });
  }
  if (args.help) return { help: true };
  if (args.positionals.length) throw ApplErr.APPL_ERR_USAGE(`unexpected argument ${args.positionals[0]}`);
  const out = typeof args.values['out'] === 'string' ? args.values['out'] : resolve(APPLIANCES_DIR, 'build');
  try {
    return { help: false, options: validateConfig(CliSchema, { ...args.values, out: isAbsolute(out) ? out : resolve(cwd, out) }) };
  } catch (cause) {
    throw ApplErr.APPL_ERR_USAGE((cause as Error).message, { cause });
  }
}
