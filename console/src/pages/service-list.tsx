/**
 * A network service's list (DNS records, DHCP leases, directory entries) read generically: the
 * answer's first array, shown with the columns its rows have. A manager without the service answers
 * `MGR_ERR_ROUTE_NOT_FOUND`, shown as "not enabled" rather than as a failure.
 */
import type { ComponentChildren } from 'preact';
import { ago } from '../format.js';
import { useResource } from '../live/use-resource.js';
import { ErrorBox } from '../ui/error-box.js';
import { Empty } from '../ui/page.js';
import { columnsOf, type Row, rowsOf } from './service-rows.js';

export type { Row } from './service-rows.js';

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
const cell = (v: unknown): string => {
  if (v === null || v === undefined) return '—';
  if (Array.isArray(v)) return v.join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'string' && ISO_TIME.test(v)) return ago(v);
  return String(v);
};
const heading = (k: string) => k.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/^./, (c) => c.toUpperCase());

export function ServiceList({
  path,
  what,
  refreshOn,
  preferred = [],
  rowActions,
}: {
  readonly path: string;
  readonly what: string;
  readonly refreshOn: readonly string[];
  readonly preferred?: readonly string[];
  readonly rowActions?: (row: Row) => ComponentChildren;
}) {
  const res = useResource<unknown>(path, refreshOn);
  if (res.error?.code === 'MGR_ERR_ROUTE_NOT_FOUND') return <Empty>{what}: not enabled on this manager.</Empty>;
  const rows = rowsOf(res.data);
  const cols = columnsOf(rows, preferred);
  return (
    <>
      <ErrorBox error={res.error} />
      {res.loading && res.data === undefined ? <Empty>Loading {what}…</Empty> : null}
      {res.data !== undefined && rows.length === 0 ? <Empty>No {what} yet.</Empty> : null}
      {rows.length ? (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">{what}</caption>
            <thead>
              <tr>
                {cols.map((c) => (
                  <th scope="col" key={c}>
                    {heading(c)}
                  </th>
                ))}
                {rowActions ? (
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                ) : null}
              </tr>
            </thead>
            <tbody>
              {rows.map((r, i) => (
                <tr key={i}>
                  {cols.map((c) => (
                    <td key={c} class="break">
                      {cell(r[c])}
                    </td>
                  ))}
                  {rowActions ? <td class="row-actions">{rowActions(r)}</td> : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </>
  );
}
