/**
 * Every item of a paginated list: pages of `limit` (`?limit=N&cursor=C`), following `next` until
 * the last page, so no one answer grows with the site.
 *
 * @example
 * const instances = await allPages<InstanceView>(ctx.api, '/instances', 'instances');
 */
import type { ManagerClient } from './client.js';

export const PAGE_SIZE = 500;

export async function allPages<T>(api: Pick<ManagerClient, 'get'>, path: string, key: string, limit = PAGE_SIZE): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const query = `?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page = await api.get<Record<string, unknown>>(`${path}${query}`);
    items.push(...((page[key] as T[] | undefined) ?? []));
    cursor = typeof page['next'] === 'string' ? page['next'] : undefined;
  } while (cursor);
  return items;
}
