/**
 * Every item of a paged list (`?limit`, following `next`), as one answer of the list's shape: the
 * API answers a page at a time, so a view of the whole site walks them.
 *
 * @example
 * const { instances } = await allPages<Instance>('/instances', 'instances');
 */
import { api } from './client.js';

/** The API's MAX_PAGE (manager/protocol/common.ts), not imported: that module brings TypeBox into the bundle. */
const PAGE = 1000;

export async function allPages<T>(path: string, key: string): Promise<Record<string, T[]>> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await api.get<Record<string, unknown>>(`${path}?limit=${PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    items.push(...((page[key] as T[] | undefined) ?? []));
    cursor = typeof page['next'] === 'string' ? page['next'] : undefined;
  } while (cursor);
  return { [key]: items };
}
