/** `storm-appliance`: builds appliance layers from recipes. Exit 0 ok, 1 failure, 2 usage error. */
import { runApplianceCli } from './cli.js';

const line = (s: string): string => (s.endsWith('\n') ? s : `${s}\n`);
const code = await runApplianceCli(process.argv.slice(2), process.env, {
  out: (s) => process.stdout.write(line(s)),
  err: (s) => process.stderr.write(line(s)),
});
process.exitCode = code;
