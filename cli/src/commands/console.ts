/** `storm console NAME [--follow]`: the tail of an instance's serial console; follow polls for more. */
import { intFlag, parseCommand } from '../args.js';
import type { CommandSpec } from '../command.js';
import type { CliContext } from '../context.js';
import { newSerialText } from '../serial-tail.js';
import { interruptSignal, sleep } from '../signals.js';
import type { SerialTail } from '../views.js';
import { instancePath } from './instances.js';

const MAX_WINDOW = 1024 * 1024;

export const consoleCommand: CommandSpec = {
  name: 'console',
  usage: ['console NAME [--follow] [--bytes N] [--interval SECONDS]'],
  summary: "the tail of an instance's serial console log; --follow keeps printing what it writes",
  details: `  --bytes N            how much of the end to show first (default 65536, at most 1048576)
  -f, --follow         poll for more until Ctrl-C
  --interval SECONDS   between polls (default 1)

With --json: the manager's { text, size, offset }; with --follow, one such object per line.

example: storm console web1 --follow`,
  async run(ctx, args) {
    const { values, positionals } = parseCommand(
      args,
      { follow: { type: 'boolean', short: 'f' }, bytes: { type: 'string' }, interval: { type: 'string' } },
      { min: 1, max: 1 },
    );
    const path = `${instancePath(positionals[0]!)}/console`;
    const bytes = intFlag(values.bytes, 'bytes', 1, MAX_WINDOW) ?? 64 * 1024;
    const intervalMs = (intFlag(values.interval, 'interval', 1, 3600) ?? 1) * 1000;
    const first = await ctx.api.get<SerialTail>(`${path}?bytes=${bytes}`);
    if (!values.follow) {
      // The log as it is: no newline added.
      if (ctx.json) ctx.print(first, '');
      else ctx.out.write(first.text);
      return 0;
    }
    emit(ctx, first, first.text);
    return follow(ctx, path, first.size, intervalMs);
  },
};

function emit(ctx: CliContext, tail: SerialTail, text: string): void {
  // In --json, each line says where its own text starts in the log.
  if (ctx.json) ctx.out.write(`${JSON.stringify({ text, size: tail.size, offset: Math.max(0, tail.size - Buffer.byteLength(text)) })}\n`);
  else ctx.out.write(text);
}

async function follow(ctx: CliContext, path: string, seen: number, intervalMs: number): Promise<number> {
  const stop = interruptSignal();
  let window = 16 * 1024;
  while (!stop.aborted) {
    await sleep(intervalMs, stop);
    if (stop.aborted) break;
    const tail = await ctx.api.get<SerialTail>(`${path}?bytes=${window}`);
    const delta = newSerialText(tail, seen);
    if (delta.restarted) ctx.err.write('\n[storm: the console log started over]\n');
    if (delta.skipped > 0) {
      ctx.err.write(`\n[storm: ${delta.skipped} bytes went by faster than this follows]\n`);
      // Ask for more next time, up to what the manager gives.
      window = Math.min(MAX_WINDOW, window * 4);
    }
    if (delta.text) emit(ctx, tail, delta.text);
    seen = tail.size;
  }
  return 0;
}
