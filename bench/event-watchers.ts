/**
 * Watchers of the manager's event stream (`GET /api/v1/events`, server-sent events), as many consoles
 * would hold open: each notes when every instance's `instance.state` → `running` reached it.
 *
 * @example
 * const w = await watchEvents(manager, 50);
 * // … launches …
 * w.arrivals('web1'); // ms timestamps (performance.now()) of its `running` at each watcher
 * w.close();
 */
import https from 'node:https';
import type { ManagerProcess } from '../test/helpers/manager-process.js';

export interface EventWatchers {
  /** When each watcher got the instance's `running` (performance.now()), in watcher order; missing ones left out. */
  arrivals(name: string): number[];
  close(): void;
}

export async function watchEvents(manager: Pick<ManagerProcess, 'url' | 'ca' | 'token'>, count: number): Promise<EventWatchers> {
  const seen = new Map<string, number[]>();
  const requests: import('node:http').ClientRequest[] = [];
  await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<void>((resolve, reject) => {
          const req = https.get(
            new URL('/api/v1/events?types=instance.state', manager.url),
            { ca: manager.ca, headers: { authorization: `Bearer ${manager.token}`, accept: 'text/event-stream' }, agent: false },
            (res) => {
              if (res.statusCode !== 200) return reject(new Error(`events answered ${res.statusCode}`));
              res.setEncoding('utf8');
              let buffered = '';
              res.on('data', (chunk: string) => {
                buffered += chunk;
                let end = buffered.indexOf('\n\n');
                while (end >= 0) {
                  const block = buffered.slice(0, end);
                  buffered = buffered.slice(end + 2);
                  const data = /^data: (.*)$/m.exec(block)?.[1];
                  if (data) {
                    const e = JSON.parse(data) as { name?: string; state?: string };
                    if (e.state === 'running' && e.name) seen.set(e.name, [...(seen.get(e.name) ?? []), performance.now()]);
                  }
                  end = buffered.indexOf('\n\n');
                }
              });
              resolve();
            },
          );
          req.on('error', reject);
          requests.push(req);
        }),
    ),
  );
  return {
    arrivals: (name) => seen.get(name) ?? [],
    close: () => {
      for (const r of requests) r.destroy();
    },
  };
}
