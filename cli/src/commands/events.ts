/**
 * `storm events [--type PREFIX]...`: the manager's live event feed until Ctrl-C (reconnecting and
 * resuming from the last event seen), or `--recent N` for the last N as a list.
 */
import { intFlag, parseCommand } from '../args.js';
import type { ServerEvent } from '../client.js';
import type { CommandSpec } from '../command.js';
import type { CliContext } from '../context.js';
import { ApiError } from '../errors.js';
import { interruptSignal, sleep } from '../signals.js';
import type { StormEvent } from '../views.js';

export const events: CommandSpec = {
  name: 'events',
  usage: ['events [--type PREFIX]... [--recent N]'],
  summary: 'the live event feed (pulls, launches, instance states, hosts, channels, reconcile) until Ctrl-C',
  details: `  -t, --type PREFIX   only events whose type is PREFIX or starts with PREFIX. (repeat for more),
                      for example instance, pull.progress, host
  --recent N          print the last N events (at most 2000) and exit, instead of following

With --json: one JSON object per line ({ id, at, type, data }); with --recent, an array.

example: storm events --type instance --type host`,
  async run(ctx, args) {
    const { values } = parseCommand(
      args,
      { type: { type: 'string', multiple: true, short: 't' }, recent: { type: 'string' } },
      { min: 0, max: 0 },
    );
    const types = values.type ?? [];
    const recent = intFlag(values.recent, 'recent', 1, 2000);
    return recent === undefined ? follow(ctx, types) : showRecent(ctx, types, recent);
  },
};

const matches = (types: readonly string[], type: string) => types.length === 0 || types.some((t) => type === t || type.startsWith(`${t}.`));

/** `12:00:01 instance.state name=web1 state=running`: time in local time, data as key=value. */
export function eventLine(e: { at: string; type: string; data: Record<string, unknown> }): string {
  const at = new Date(e.at);
  const time = Number.isNaN(at.getTime()) ? e.at : at.toTimeString().slice(0, 8);
  const kv = Object.entries(e.data).map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`);
  return `${time} ${e.type}${kv.length ? ` ${kv.join(' ')}` : ''}`;
}

async function showRecent(ctx: CliContext, types: readonly string[], limit: number): Promise<number> {
  // The route filters by one prefix: ask for one, or for all and filter here.
  const query = types.length === 1 ? `&type=${encodeURIComponent(types[0]!)}` : '';
  const { events: list } = await ctx.api.get<{ events: readonly StormEvent[] }>(`/events/recent?limit=${limit}${query}`);
  const shown = list.filter((e) => matches(types, e.type));
  ctx.print(shown, shown.length ? shown.map(eventLine).join('\n') : 'no events');
  return 0;
}

/** The SSE form back to the shape `--recent` prints: `{ id, at, type, data }`. */
function fromServer(e: ServerEvent): StormEvent {
  const { at, ...data } = e.data;
  return { id: Number(e.id), at: typeof at === 'string' ? at : new Date().toISOString(), type: e.type, data };
}

async function follow(ctx: CliContext, types: readonly string[]): Promise<number> {
  const stop = interruptSignal();
  let lastId: string | undefined;
  let retryMs = 1000;
  let connected = false;
  while (!stop.aborted) {
    try {
      const stream = await ctx.api.openEvents(types, stop, lastId);
      connected = true;
      retryMs = 1000;
      for await (const raw of stream) {
        const e = fromServer(raw);
        lastId = raw.id ?? lastId;
        ctx.out.write(ctx.json ? `${JSON.stringify(e)}\n` : `${eventLine(e)}\n`);
      }
      if (stop.aborted) break;
      ctx.err.write('storm: the event stream closed; reconnecting\n');
    } catch (err) {
      // A refusal (bad token, bad filter), or no manager at all at the start, will not get better by retrying.
      if (!connected || (err instanceof ApiError && err.status >= 400)) throw err;
      if (stop.aborted) break;
      ctx.err.write(
        `storm: ${err instanceof ApiError ? `${err.code}: ` : ''}${err instanceof Error ? err.message : String(err)}; reconnecting in ${retryMs / 1000}s\n`,
      );
    }
    await sleep(retryMs, stop);
    retryMs = Math.min(30_000, retryMs * 2);
  }
  return 0;
}
