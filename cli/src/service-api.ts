/**
 * Calls to the network services' routes (DNS, DHCP, directory), which a manager may not have: a
 * missing route becomes "not enabled on this manager". Their shapes may still move, so lists are
 * read generically: the answer's first array (or the answer itself when it is one), shown with the
 * columns asked for that its rows have.
 *
 * @example
 * const rows = await serviceList(ctx, 'DNS records', '/dns/records');
 */
import type { CliContext } from './context.js';
import { ApiError, cliError } from './errors.js';
import { cell, relativeTime } from './format.js';
import { table } from './table.js';

export type Row = Record<string, unknown>;

export async function serviceCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof ApiError && err.code === 'MGR_ERR_ROUTE_NOT_FOUND')
      throw cliError('CLI_ERR_NOT_ENABLED', `${what}: not enabled on this manager (${err.message})`);
    throw err;
  }
}

/** The rows of a list answer: an array, or the first array-valued property of an object. */
export function rowsOf(answer: unknown): Row[] {
  if (Array.isArray(answer)) return answer as Row[];
  if (answer && typeof answer === 'object') {
    const list = Object.values(answer).find(Array.isArray);
    if (list) return list as Row[];
  }
  return [];
}

export async function serviceList(ctx: CliContext, what: string, path: string): Promise<Row[]> {
  return rowsOf(await serviceCall(what, () => ctx.api.get<unknown>(path)));
}

/** A table of the `columns` the rows have; of every key they have when they have none of those (the shape moved). */
export function genericTable(rows: readonly Row[], columns: readonly string[] = []): string {
  const keys: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!keys.includes(k)) keys.push(k);
  const known = columns.filter((k) => keys.includes(k));
  const ordered = known.length ? known : keys;
  return table(
    ordered.map((k) => k.replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase()),
    // Times (`createdAt`, `expiresAt`) read better relative to now.
    rows.map((r) => ordered.map((k) => (/At$/.test(k) && typeof r[k] === 'string' ? relativeTime(r[k]) : cell(r[k])))),
  );
}

export function printList(ctx: CliContext, rows: readonly Row[], empty: string, columns: readonly string[] = []): void {
  ctx.print(rows, rows.length ? genericTable(rows, columns) : empty);
}
