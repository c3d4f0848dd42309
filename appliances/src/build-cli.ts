/**
 * `npm run build:appliances`: guest kernel, STORM initrd and sample layers → appliances/build/.
 * One line per step; exit 1 with the error on failure.
 */
import { errorMessage } from '../../common/errors.js';
import { buildAppliances } from './build.js';
import { HELP, parseCli } from './cli-args.js';

async function main(): Promise<number> {
  const parsed = parseCli(process.argv.slice(2), process.cwd());
  if (parsed.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const { options } = parsed;
  const started = Date.now();
  const r = await buildAppliances({
    out: options.out,
    force: options.force,
    debian: options.debian,
    log: (line) => process.stdout.write(`${line}\n`),
  });
  process.stdout.write(
    `build:appliances: ${r.built} built, ${r.fresh} up to date in ${((Date.now() - started) / 1000).toFixed(1)}s → ${options.out}\n`,
  );
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`build:appliances: ${errorMessage(err)}\n`);
    process.exitCode = 1;
  },
);
