/** `storm doctor`: the manager's and every host's checks, one line each, with what to do; exit 1 when any fails. */
import { parseCommand } from '../args.js';
import type { CommandSpec } from '../command.js';
import type { DoctorReport } from '../views.js';

/** One report as lines: `STATUS  SCOPE  CHECK  message`, and `→ fix` under a failure. */
export function doctorText(report: DoctorReport): string {
  const scopeWidth = Math.max(...report.checks.map((c) => c.scope.length));
  const nameWidth = Math.max(...report.checks.map((c) => c.name.length));
  const lines = report.checks.flatMap((c) => [
    `${c.status.padEnd(4)}  ${c.scope.padEnd(scopeWidth)}  ${c.name.padEnd(nameWidth)}  ${c.message}`,
    ...(c.status === 'fail' && c.fix ? [`${' '.repeat(4 + 2 + scopeWidth + 2 + nameWidth + 2)}→ ${c.fix}`] : []),
  ]);
  const failed = report.checks.filter((c) => c.status === 'fail').length;
  return `${lines.join('\n')}\n${failed ? `${failed} check${failed === 1 ? '' : 's'} failed` : 'all checks pass'}\n`;
}

export const doctor: CommandSpec = {
  name: 'doctor',
  usage: ['doctor'],
  summary: 'check the manager and every host: one line each (ok, fail with what to do, skip); exit 1 when any fails',
  details: `The manager's checks: its data folder and secrets private, the database (sqlite quick_check),
the CA and CRL validity, the network services it runs accepting connections, the local host
heartbeating. Each host's: its heartbeat, then the checks its stormd sent with it (libvirt,
store-access, kvm, define-time; see docs/hosts.md), then its certificate.

Exit status 1 when any check fails. --json prints the report ({ ok, checks: [...] }).

example: storm doctor`,
  async run(ctx, args) {
    parseCommand(args, {}, { min: 0, max: 0 });
    const report = await ctx.api.get<DoctorReport>('/doctor');
    ctx.print(report, doctorText(report));
    return report.ok ? 0 : 1;
  },
};
