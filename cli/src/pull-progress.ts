/**
 * Live progress from the manager's events: `watchEvents` subscribes (resolving once subscribed, so
 * nothing the following request causes is missed) and `PullBar` turns one appliance version's
 * `pull.*` events into a progress bar.
 *
 * @example
 * const bar = new PullBar(ctx.err, appliance);
 * const watch = await watchEvents(ctx, ['pull'], (e) => bar.handle(e));
 * try { await ctx.api.post(...); bar.finish('pulled'); } finally { await watch.close(); }
 */
import type { ServerEvent } from './client.js';
import type { CliContext } from './context.js';
import { formatBytes, ProgressBar } from './progress-bar.js';

export interface EventWatch {
  close(): Promise<void>;
}

export async function watchEvents(
  ctx: Pick<CliContext, 'api'>,
  types: readonly string[],
  handle: (e: ServerEvent) => void,
): Promise<EventWatch> {
  const abort = new AbortController();
  // Progress is a courtesy: a stream that cannot open or breaks must not fail the operation it decorates.
  const stream = await ctx.api.openEvents(types, abort.signal).catch(() => undefined);
  if (!stream) return { close: async () => undefined };
  const done = (async () => {
    for await (const e of stream) handle(e);
  })().catch(() => undefined);
  return {
    close: async () => {
      abort.abort();
      await done;
    },
  };
}

export class PullBar {
  private bar: ProgressBar | undefined;
  private finished = false;
  private readonly label: string;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly appliance: { readonly name: string; readonly version: string },
    /** End the bar on `pull.completed` / `pull.failed` (launch), rather than on the caller's word (pull). */
    private readonly endOnEvent = false,
  ) {
    this.label = `${appliance.name} ${appliance.version}`;
  }

  /** True when the event was about this appliance's pull. */
  handle(e: ServerEvent): boolean {
    if (!e.type.startsWith('pull.') || e.data['name'] !== this.appliance.name || e.data['version'] !== this.appliance.version) return false;
    if (this.finished) return true;
    const n = (k: string) => Number(e.data[k] ?? 0);
    if (e.type === 'pull.progress') {
      const eta = e.data['etaSeconds'];
      (this.bar ??= new ProgressBar(this.label, this.out)).update({
        bytes: n('bytes'),
        total: n('total'),
        rate: n('rate'),
        etaSeconds: typeof eta === 'number' ? eta : null,
      });
    } else if (this.endOnEvent && e.type === 'pull.completed') {
      this.finish(
        n('downloadedBytes') === 0
          ? `already cached (${formatBytes(n('total'))})`
          : `pulled ${formatBytes(n('downloadedBytes'))}, verified`,
      );
    } else if (this.endOnEvent && e.type === 'pull.failed') {
      this.finish(`pull failed: ${String(e.data['code'] ?? '')} ${String(e.data['error'] ?? '')}`.trim());
    }
    return true;
  }

  /** Ends the bar with a message (once; later events of the same pull are ignored). */
  finish(message: string): void {
    if (this.finished) return;
    this.finished = true;
    (this.bar ?? new ProgressBar(this.label, this.out)).done(message);
  }

  get active(): boolean {
    return this.bar !== undefined && !this.finished;
  }
}
