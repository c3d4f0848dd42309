/**
 * `GET /api/v1/kerberos`: the realm the manager runs (`--kdc-listen`): the KDC's state, each
 * directory user's principal, each instance's principals. `{ enabled: false }` without a KDC.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { KerberosAnswer } from '../../protocol/index.js';
import type { DirectoryStore } from '../directory/store.js';
import type { InstanceService } from '../instances/instance-service.js';
import type { KerberosService } from '../kerberos/kerberos-service.js';
import { realmView } from '../kerberos/realm-view.js';

export interface KerberosRouteOptions {
  readonly kerberos: KerberosService | null;
  readonly directory: DirectoryStore;
  readonly instances: InstanceService;
}

export const kerberosRoutes: FastifyPluginAsyncTypebox<KerberosRouteOptions> = async (app, { kerberos, directory, instances }) => {
  app.get('/kerberos', { schema: { response: { 200: KerberosAnswer } } }, async () => {
    if (!kerberos) return { enabled: false as const };
    // Principals first: a user or instance made meanwhile shows without its principal, never the reverse.
    const found = await kerberos.principals();
    const users = (await directory.listUsers()).map((u) => ({ uid: u.uid, hasPassword: u.hasPassword }));
    const names = await instances.names();
    return realmView(kerberos.status(), found, users, names);
  });
};
