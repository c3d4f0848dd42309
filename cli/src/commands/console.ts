/**
 * `storm console NAME [--follow]`: the tail of an instance's serial console, control characters
 * shown escaped (a guest must not drive the administrator's terminal); follow polls for more.
 * `--attach` joins the serial port itself, raw, until the escape key (`serial-terminal.ts`).
 */
import { TerminalText } from '../../../common/terminal-text.js';
import { intFlag, parseCommand } from '../args.js';
import type { CommandSpec } from '../command.js';
import { type CliContext, UsageError } from '../context.js';
import { newSerialText } from '../serial-tail.js';
import { runSerialTerminal } from '../serial-terminal.js';
import { interruptSignal, sleep } from '../signals.js';
import type { SerialTail } from '../views.js';
import { instancePath } from './instances.js';

const MAX_WINDOW = 1024 * 1024;

export const consoleCommand: CommandSpec = {
  name: 'console',
  usage: ['console NAME [--follow] [--bytes N] [--interval SECONDS]', 'console NAME --attach [--takeover]'],
  summary: "an instance's serial console: the log's tail (--follow keeps printing), or --attach to type into it",
  details: `  --bytes N            how much of the end to show first (default 65536, at most 1048576)
  -f, --follow         poll for more until Ctrl-C
  --interval SECONDS   between polls (default 1)
  --attach             join the running instance's serial port: a raw terminal until Ctrl-] detaches
                       (the instance keeps running); one administrator writes at a time, others read
  --takeover           with --attach: write even when someone else does (they are told, and read on)

The tail shows control characters escaped (ESC as ^[, a lone CR as ^M), so a guest cannot drive
your terminal; only --attach passes the guest's bytes through, as its own terminal.
With --json: the manager's { text, size, offset }, unescaped; with --follow, one such object per line.

examples: storm console web1 --follow
          storm console web1 --attach`,
  async run(ctx, args) {
    const { values, positionals } = parseCommand(
      args,
      {
        follow: { type: 'boolean', short: 'f' },
        bytes: { type: 'string' },
        interval: { type: 'string' },
        attach: { type: 'boolean' },
        takeover: { type: 'boolean' },
      },
      { min: 1, max: 1 },
    );
    const path = `${instancePath(positionals[0]!)}/console`;
    if (values.takeover && !values.attach) throw new UsageError('--takeover goes with --attach');
    if (values.attach) {
      if (values.follow || values.bytes !== undefined || values.interval !== undefined || ctx.json)
        throw new UsageError('--attach is a terminal session: --follow, --bytes, --interval and --json do not apply');
      const ws = await ctx.api.webSocket(`${path}/attach${values.takeover ? '?takeover=true' : ''}`);
      return runSerialTerminal({ ws, name: positionals[0]!, stdin: ctx.stdin, out: ctx.out, err: ctx.err });
    }
    const bytes = intFlag(values.bytes, 'bytes', 1, MAX_WINDOW) ?? 64 * 1024;
    const intervalMs = (intFlag(values.interval, 'interval', 1, 3600) ?? 1) * 1000;
    const first = await ctx.api.get<SerialTail>(`${path}?bytes=${bytes}`);
    const screen = new TerminalText();
    if (!values.follow) {
      // The log as it is, escaped: no newline added.
      if (ctx.json) ctx.print(first, '');
      else ctx.out.write(screen.push(first.text) + screen.end());
      return 0;
    }
    emit(ctx, screen, first, first.text);
    return follow(ctx, screen, path, first.size, intervalMs);
  },
};

function emit(ctx: CliContext, screen: TerminalText, tail: SerialTail, text: string): void {
  // In --json, each line says where its own text starts in the log (JSON escapes control characters itself).
  if (ctx.json) ctx.out.write(`${JSON.stringify({ text, size: tail.size, offset: Math.max(0, tail.size - Buffer.byteLength(text)) })}\n`);
  else ctx.out.write(screen.push(text));
}

async function follow(ctx: CliContext, screen: TerminalText, path: string, seen: number, intervalMs: number): Promise<number> {
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
    if (delta.text) emit(ctx, screen, tail, delta.text);
    seen = tail.size;
  }
  if (!ctx.json) ctx.out.write(screen.end());
  return 0;
}
