/**
 * Hosts: enrolment tokens and the command to run on the host, the registry, revocation, libvirt PKI
 * bundles (administrator); `POST /hosts/join` (the token is the credential); `POST /hosts/heartbeat`
 * and `POST /hosts/renew` (the host's certificate is).
 */
import type { FastifyPluginAsync } from 'fastify';
import Type from 'typebox';
import { urlHost } from '../../../common/url-host.js';
import type { HeartbeatRequest, JoinRequest, RenewRequest } from '../../../stormd/protocol.js';
import { requireHost } from '../auth/host-auth.js';
import { MgrErr } from '../errors.js';
import type { HostRegistry } from '../hosts/host-registry.js';
import { hostView } from '../hosts/host-registry.js';
import { issueLibvirtBundle } from '../../../trust/index.js';
import type { TrustService } from '../trust/trust-service.js';

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 253 }) });
const TokenBody = Type.Object({ ttlSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 7 * 86_400 })) }, { additionalProperties: false });
const JoinBody = Type.Object(
  { token: Type.String({ maxLength: 200 }), csr: Type.String({ maxLength: 16 * 1024 }), name: Type.String({ maxLength: 253 }), url: Type.String({ maxLength: 300 }) },
  { additionalProperties: false },
);
const RenewBody = Type.Object({ csr: Type.String({ maxLength: 16 * 1024 }) }, { additionalProperties: false });

export interface HostRouteOptions {
  readonly hosts: HostRegistry;
  readonly trust: TrustService;
  /** The URL hosts join at (shown in the enrolment command); known once the listener is up. */
  readonly publicUrl: () => string;
}

/** Administrator routes (mounted behind the API token). */
export const hostAdminRoutes: FastifyPluginAsync<HostRouteOptions> = async (app, { hosts, trust, publicUrl }) => {
  app.post('/hosts/tokens', { schema: { body: TokenBody } }, async (request, reply) => {
    const ttl = (request.body as { ttlSeconds?: number } | undefined)?.ttlSeconds ?? 3600;
    const t = await trust.tokens.create(trust.fingerprint, ttl);
    return reply.status(201).send({
      id: t.id,
      token: t.token,
      expiresAt: t.expiresAt,
      caFingerprint: trust.fingerprint,
      command: `stormd join ${publicUrl()} --token ${t.token} --data /var/lib/stormd --name $(hostname -f) && stormd --data /var/lib/stormd`,
    });
  });
  app.get('/hosts/tokens', async () => ({ tokens: await trust.tokens.list() }));
  app.get('/hosts', async () => ({ hosts: await hosts.list() }));
  app.get('/hosts/:id', { schema: { params: IdParams } }, async (request) => hostView(await hosts.get((request.params as { id: string }).id)));
  app.delete('/hosts/:id', { schema: { params: IdParams } }, async (request) => hostView(await hosts.revoke((request.params as { id: string }).id)));
  app.post('/hosts/:id/pki-bundle', { schema: { params: IdParams } }, async (request) => {
    const host = await hosts.get((request.params as { id: string }).id);
    if (host.status === 'revoked') throw MgrErr.MGR_ERR_CONFLICT(`host ${host.name} is revoked`);
    const dialled = urlHost(host.url);
    return issueLibvirtBundle(trust.ca, { hostName: host.name, altNames: dialled === host.name ? [] : [dialled], crl: trust.crlPem });
  });
};

/** Enrolment: the single-use token in the body is the credential. */
export const hostJoinRoutes: FastifyPluginAsync<HostRouteOptions> = async (app, { hosts }) => {
  app.post('/hosts/join', { schema: { body: JoinBody } }, async (request) => hosts.join(request.body as JoinRequest));
};

/** Heartbeats and certificate renewal: the host's client certificate is the credential. */
export const hostAgentRoutes: FastifyPluginAsync<HostRouteOptions> = async (app, { hosts }) => {
  app.addHook('onRequest', requireHost(hosts));
  app.post('/hosts/heartbeat', { bodyLimit: 4 * 1024 * 1024 }, async (request) => hosts.heartbeat(request.enrolledHost!.cert_serial, request.body as HeartbeatRequest));
  app.post('/hosts/renew', { schema: { body: RenewBody } }, async (request) => hosts.renew(request.enrolledHost!, request.body as RenewRequest));
};
