/** `storm-channel`: keygen, build and serve appliance channels. Exit 0 ok, 1 failure, 2 usage error. */
import { runCli } from './cli/run.js';

const stopped = new Promise<string>((resolve) => {
  process.once('SIGINT', () => resolve('SIGINT'));
  process.once('SIGTERM', () => resolve('SIGTERM'));
});

const code = await runCli(process.argv.slice(2), process.env, {
  out: (line) => process.stdout.write(`${line.endsWith('\n') ? line : `${line}\n`}`),
  err: (line) => process.stderr.write(`${line.endsWith('\n') ? line : `${line}\n`}`),
  stopped,
});
process.exit(code);
