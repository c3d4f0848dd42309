/**
 * The manager's wire types: TypeBox schemas of every `/api/v1` route's params, query, body and
 * answer. Each schema is also its type (`type X = Static<typeof X>`): the manager's routes take
 * their types from these through fastify's TypeBox type provider, `GET /api/v1/openapi.json` is
 * generated from them, and the CLI and the web console import them as types only. Every refusal is
 * `ErrorBody`. This folder imports nothing but `typebox`, so any program may read it (docs/development.md).
 *
 * @example
 * import type { InstanceList } from '../../manager/protocol/index.js';
 * const { instances } = await api.get<InstanceList>('/instances');
 */
export const API_PREFIX = '/api/v1';

export * from './common.js';
export * from './appliances.js';
export * from './channels.js';
export * from './directory.js';
export * from './doctor.js';
export * from './events.js';
export * from './hosts.js';
export * from './images.js';
export * from './instances.js';
export * from './kerberos.js';
export * from './network.js';
export * from './reconcile.js';
export * from './replication.js';
export * from './session.js';
export * from './system.js';
export * from './uplink.js';
export * from './volumes.js';
