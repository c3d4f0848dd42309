/**
 * Instances through the manager's API, for end-to-end tests: wait for a line in an instance's
 * console log, and destroy every instance when a suite ends.
 *
 * @example
 * const text = await waitForConsole(site.api, web.id, /STORM-AGENT: applied/, { failOn: GUEST_FAILED });
 * afterAll(() => destroyAllInstances(site?.api));
 */
import type { ManagerClient } from '../../cli/src/client.js';
import { allPages } from '../../cli/src/paged.js';

/** What the launch API answers, as far as the tests read it. */
export interface LaunchedInstance {
  id: string;
  name: string;
  ip: string;
  mac: string;
  state: string;
  guestStatus: { phase: string; details: string } | null;
}

/** Console lines after which a guest will not get further: stop waiting at once. */
export const GUEST_FAILED = /STORM-AGENT: failed|STORM-INIT: error/;

/** The console log (its last `bytes`) once `pattern` shows in it; throws with the log's tail otherwise. */
export async function waitForConsole(
  api: ManagerClient,
  id: string,
  pattern: RegExp,
  opts: { timeoutMs?: number; failOn?: RegExp; bytes?: number } = {},
): Promise<string> {
  const deadline = Date.now() + (opts.timeoutMs ?? 180_000);
  for (;;) {
    const { text } = await api.get<{ text: string }>(`/instances/${id}/console?bytes=${opts.bytes ?? 262_144}`);
    if (pattern.test(text)) return text;
    if (opts.failOn?.test(text) || Date.now() > deadline) throw new Error(`console never showed ${pattern}:\n${text.slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Destroys every instance the manager lists (a suite's clean-up: errors are ignored). */
export async function destroyAllInstances(api: ManagerClient | undefined): Promise<void> {
  if (!api) return;
  const instances = await allPages<{ id: string }>(api, '/instances', 'instances').catch(() => [] as { id: string }[]);
  for (const i of instances) await api.delete(`/instances/${i.id}`).catch(() => undefined);
}
