/**
 * The appliance network's data: `GET|POST /api/v1/dns/records`, `DELETE /api/v1/dns/records/:id`
 * (administrator records anywhere in the zone; appliances register theirs over XML-RPC),
 * `GET /api/v1/dhcp/leases`, and `GET /api/v1/network` (settings and service counters).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { LeaseList, NetworkView, RecordBody, RecordList, RecordParams, RecordView } from '../../protocol/index.js';
import { NoContent } from '../http/openapi.js';
import type { Database } from '../db/database.js';
import { MgrErr } from '../errors.js';
import { parseRecord } from '../network/dns-records.js';
import type { NetworkServices } from '../protocols/network-services.js';
import type { NetworkSettings } from '../network/network-settings.js';
import { type RecordStore, recordView } from '../network/record-store.js';

export interface NetworkRouteOptions {
  readonly db: Database;
  readonly records: RecordStore;
  readonly services: NetworkServices;
  readonly net: NetworkSettings | null;
  readonly domain: string;
}

export const networkRoutes: FastifyPluginAsyncTypebox<NetworkRouteOptions> = async (app, { db, records, services, net, domain }) => {
  app.get('/dns/records', { schema: { response: { 200: RecordList } } }, async () => ({ records: (await records.list()).map(recordView) }));
  app.post('/dns/records', { schema: { body: RecordBody, response: { 201: RecordView } } }, async (request, reply) => {
    const b = request.body;
    const parsed = parseRecord(b.type, b.name, b.value, domain, domain);
    if (parsed.name !== domain && !parsed.name.endsWith(`.${domain}`))
      throw MgrErr.MGR_ERR_VALIDATION(`${parsed.name} is outside the zone ${domain}`);
    return reply.status(201).send(recordView(await records.add(parsed, null, b.ttl ?? null)));
  });
  app.delete('/dns/records/:id', { schema: { params: RecordParams, response: { 204: NoContent } } }, async (request, reply) => {
    await records.remove(request.params.id);
    return reply.status(204).send();
  });
  app.get('/dhcp/leases', { schema: { response: { 200: LeaseList } } }, async () => {
    const rows = await db.all<{
      mac: string;
      ip: string;
      hostname: string | null;
      client_id: string | null;
      expires_at: number;
      updated_at: string;
      instance_id: string | null;
      instance_name: string | null;
    }>('SELECT l.*, i.id AS instance_id, i.name AS instance_name FROM dhcp_leases l LEFT JOIN instances i ON i.mac = l.mac ORDER BY l.ip');
    return {
      leases: rows.map((r) => ({
        mac: r.mac,
        ip: r.ip,
        hostname: r.hostname,
        expiresAt: new Date(r.expires_at).toISOString(),
        active: r.expires_at > Date.now(),
        instance: r.instance_id,
        instanceName: r.instance_name,
        updatedAt: r.updated_at,
      })),
    };
  });
  app.get('/network', { schema: { response: { 200: NetworkView } } }, async () => ({
    domain,
    network: net ? { cidr: net.cidrText, managerAddress: net.managerAddress, router: net.router ?? null, pool: net.pool ?? null } : null,
    services: services.stats(),
  }));
};
