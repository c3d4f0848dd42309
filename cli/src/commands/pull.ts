/** `storm pull NAME[@VERSION]`: pull an appliance into the manager's cache with a progress bar. */
import type { CliContext } from '../context.js';
import { UsageError } from '../context.js';
import { formatBytes, ProgressBar } from '../progress-bar.js';

export function parseRef(ref: string | undefined): { name: string; version?: string } {
  const m = /^([a-z0-9][a-z0-9-]*)(?:@([0-9A-Za-z.+-]+))?$/.exec(ref ?? '');
  if (!m) throw new UsageError(`expected NAME[@VERSION], got ${JSON.stringify(ref ?? '')}`);
  return m[2] ? { name: m[1]!, version: m[2] } : { name: m[1]! };
}

interface ApplianceView {
  name: string;
  version: string;
  size: number;
  cached: boolean;
}

/** The newest version when none was named (the catalog lists newest first). */
export async function resolveVersion(ctx: CliContext, ref: { name: string; version?: string }): Promise<string> {
  if (ref.version) return ref.version;
  const { appliances } = await ctx.api.get<{ appliances: ApplianceView[] }>(`/appliances?name=${encodeURIComponent(ref.name)}`);
  if (!appliances[0]) throw new UsageError(`no appliance named ${ref.name} in any subscribed channel`);
  return appliances[0].version;
}

export async function pull(ctx: CliContext, args: readonly string[]): Promise<number> {
  const ref = parseRef(args[0]);
  const version = await resolveVersion(ctx, ref);
  const label = `${ref.name} ${version}`;
  const abort = new AbortController();
  const bar = ctx.json ? undefined : new ProgressBar(label, ctx.err);
  // Progress arrives as events; listen before asking so no early event is missed.
  const watching = (async () => {
    for await (const e of ctx.api.events(['pull'], abort.signal)) {
      if (e.data['name'] !== ref.name || e.data['version'] !== version) continue;
      if (e.type === 'pull.progress') bar?.update({ bytes: Number(e.data['bytes']), total: Number(e.data['total']), rate: Number(e.data['rate']), etaSeconds: e.data['etaSeconds'] as number | null });
    }
  })().catch(() => undefined);
  try {
    const result = await ctx.api.post<{ bytes: number; downloadedBytes: number; files: number }>(`/appliances/${ref.name}/${encodeURIComponent(version)}/pull`);
    bar?.done(result.downloadedBytes === 0 ? `already cached (${formatBytes(result.bytes)})` : `pulled ${formatBytes(result.downloadedBytes)} in ${result.files} files, verified`);
    if (ctx.json) ctx.print(result, '');
    return 0;
  } finally {
    abort.abort();
    await watching;
  }
}
