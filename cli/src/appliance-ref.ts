/**
 * `NAME[@VERSION]` as the CLI takes it, and the catalog entry it names (the newest version when
 * none is given; the catalog lists newest first).
 *
 * @example
 * const a = await resolveAppliance(ctx, parseRef('hello-web@1.0.0'));
 */
import type { CliContext } from './context.js';
import { cliError, UsageError } from './errors.js';
import type { ApplianceView } from './views.js';

export interface ApplianceRef {
  readonly name: string;
  readonly version?: string;
}

export function parseRef(ref: string | undefined): ApplianceRef {
  const m = /^([a-z0-9][a-z0-9-]*)(?:@([0-9A-Za-z.+-]+))?$/.exec(ref ?? '');
  if (!m) throw new UsageError(`expected NAME[@VERSION], got ${JSON.stringify(ref ?? '')}`);
  return m[2] ? { name: m[1]!, version: m[2] } : { name: m[1]! };
}

export const refText = (ref: ApplianceRef): string => (ref.version ? `${ref.name}@${ref.version}` : ref.name);

/** The catalog entry for `ref` (in `channel` when given). */
export async function resolveAppliance(ctx: CliContext, ref: ApplianceRef, channel?: string): Promise<ApplianceView> {
  // A named version is the manager's to find (its MGR_ERR_NOT_FOUND when it has none).
  if (ref.version && !channel) return ctx.api.get<ApplianceView>(`/appliances/${ref.name}/${encodeURIComponent(ref.version)}`);
  const { appliances } = await ctx.api.get<{ appliances: ApplianceView[] }>(`/appliances?name=${encodeURIComponent(ref.name)}`);
  const found = appliances.find((a) => (!ref.version || a.version === ref.version) && (!channel || a.channelId === channel));
  if (!found)
    throw cliError(
      'CLI_ERR_NOT_FOUND',
      `no appliance ${refText(ref)} in ${channel ? `channel ${channel}` : 'any subscribed channel'} (storm appliances lists them)`,
    );
  return found;
}
