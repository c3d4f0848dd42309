/** `storm reconcile`: one reconcile pass now, and what it repaired. */
import { parseCommand } from '../args.js';
import type { CommandSpec } from '../command.js';
import type { ReconcileReport } from '../views.js';

const LABELS: Readonly<Record<keyof ReconcileReport, string>> = {
  hostsChecked: 'hosts checked',
  hostsUnreachable: 'hosts unreachable',
  launchesFinished: 'interrupted launches finished',
  launchesUndone: 'interrupted launches undone',
  destroysFinished: 'destroys finished',
  operationsUndone: 'interrupted operations undone',
  orphansRemoved: 'orphan domains removed',
  staleRemoved: 'stale domains of dead hosts removed',
  lost: 'instances lost (no domain on their host)',
  errors: 'errors',
};

export const reconcile: CommandSpec = {
  name: 'reconcile',
  usage: ['reconcile'],
  summary: 'compare every reachable host with the database now and repair the drift',
  details: 'Exit status 1 when the pass reported errors.\n\nexample: storm reconcile',
  async run(ctx, args) {
    parseCommand(args, {}, { min: 0, max: 0 });
    const report = await ctx.api.post<ReconcileReport>('/reconcile');
    const lines = (Object.keys(LABELS) as (keyof ReconcileReport)[])
      .filter((k) => report[k].length > 0 && k !== 'hostsChecked')
      .map((k) => `${LABELS[k]}: ${report[k].join(', ')}`);
    const checked = `checked ${report.hostsChecked.length} host${report.hostsChecked.length === 1 ? '' : 's'}${report.hostsChecked.length ? ` (${report.hostsChecked.join(', ')})` : ''}`;
    ctx.print(report, [checked, ...(lines.length ? lines : ['nothing to repair'])].join('\n'));
    return report.errors.length ? 1 : 0;
  },
};
