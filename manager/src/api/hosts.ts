/**
 * Hosts: enrolment tokens and the command to run on the host, the registry, revocation, libvirt PKI
 * bundles, drain, undrain, evacuate, the fence command and declare-dead (administrator); `POST /hosts/join` (the token is the credential); `POST /hosts/heartbeat`
 * and `POST /hosts/renew` (the host's certificate is).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Static } from 'typebox';
import { urlHost } from '../../../common/url-host.js';
import type {
  HeartbeatRequest,
  HeartbeatResponse,
  JoinRequest,
  JoinResponse,
  RenewRequest,
  RenewResponse,
} from '../../../stormd/protocol.js';
import {
  DeathReport,
  EvacuateBody,
  EvacuationReport,
  FenceBody,
  HeartbeatAnswer,
  HeartbeatBody,
  HostList,
  HostParams,
  HostView,
  JoinAnswer,
  JoinBody,
  LibvirtBundle,
  RenewAnswer,
  RenewBody,
  TokenBody,
  TokenCreated,
  TokenList,
  UndrainAnswer,
  type IssuedCertificate,
} from '../../protocol/index.js';
import { requireHost } from '../auth/host-auth.js';
import { MgrErr } from '../errors.js';
import { documentAuth } from '../http/openapi.js';
import type { Agree, Same } from '../http/wire-check.js';
import type { Evacuation } from '../hosts/evacuation.js';
import type { HostFencing } from '../hosts/host-fencing.js';
import type { HostRegistry } from '../hosts/host-registry.js';
import { hostView } from '../hosts/host-registry.js';
import { issueLibvirtBundle, type IssuedCertificate as Issued } from '../../../trust/index.js';
import type { TrustService } from '../trust/trust-service.js';

// stormd sends and reads these bodies by the types of its own protocol.ts: each side's shape must be the other's.
export type StormdAgrees = [
  Agree<Same<Static<typeof JoinBody>, JoinRequest>>,
  Agree<Same<Static<typeof JoinAnswer>, JoinResponse>>,
  Agree<Same<Static<typeof RenewBody>, RenewRequest>>,
  Agree<Same<Static<typeof RenewAnswer>, RenewResponse>>,
  Agree<Same<Static<typeof HeartbeatBody>, HeartbeatRequest>>,
  Agree<Same<Static<typeof HeartbeatAnswer>, HeartbeatResponse>>,
];

export interface HostRouteOptions {
  readonly hosts: HostRegistry;
  readonly trust: TrustService;
  readonly fencing: HostFencing;
  readonly evacuation: Evacuation;
  /** The URL hosts join at (shown in the enrolment command); known once the listener is up. */
  readonly publicUrl: () => string;
}

const issuedView = (c: Issued): IssuedCertificate => ({ ...c, notBefore: c.notBefore.toISOString(), notAfter: c.notAfter.toISOString() });

/** Administrator routes (mounted behind the API token). */
export const hostAdminRoutes: FastifyPluginAsyncTypebox<HostRouteOptions> = async (
  app,
  { hosts, trust, publicUrl, fencing, evacuation },
) => {
  app.post('/hosts/tokens', { schema: { body: TokenBody, response: { 201: TokenCreated } } }, async (request, reply) => {
    const t = await trust.tokens.create(trust.fingerprint, request.body.ttlSeconds ?? 3600);
    return reply.status(201).send({
      id: t.id,
      token: t.token,
      expiresAt: t.expiresAt,
      caFingerprint: trust.fingerprint,
      command: `stormd join ${publicUrl()} --token ${t.token} --data /var/lib/stormd --name $(hostname -f) && stormd --data /var/lib/stormd`,
    });
  });
  app.get('/hosts/tokens', { schema: { response: { 200: TokenList } } }, async () => ({ tokens: await trust.tokens.list() }));
  app.get('/hosts', { schema: { response: { 200: HostList } } }, async () => ({ hosts: await hosts.list() }));
  app.get('/hosts/:id', { schema: { params: HostParams, response: { 200: HostView } } }, async (request) =>
    hostView(await hosts.get(request.params.id)),
  );
  app.delete('/hosts/:id', { schema: { params: HostParams, response: { 200: HostView } } }, async (request) =>
    hostView(await hosts.revoke(request.params.id)),
  );
  app.post('/hosts/:id/pki-bundle', { schema: { params: HostParams, response: { 200: LibvirtBundle } } }, async (request) => {
    const host = await hosts.get(request.params.id);
    if (host.status === 'revoked') throw MgrErr.MGR_ERR_CONFLICT(`host ${host.name} is revoked`);
    const dialled = urlHost(host.url);
    const bundle = await issueLibvirtBundle(trust.ca, {
      hostName: host.name,
      altNames: dialled === host.name ? [] : [dialled],
      crl: trust.crlPem,
    });
    return { ...bundle, issued: { server: issuedView(bundle.issued.server), client: issuedView(bundle.issued.client) } };
  });
  // What the administrator decides about a host (docs/hosts.md "Drained and dead hosts").
  app.post('/hosts/:id/drain', { schema: { params: HostParams, response: { 200: HostView } } }, async (request) =>
    fencing.drain(request.params.id),
  );
  app.post('/hosts/:id/undrain', { schema: { params: HostParams, response: { 200: UndrainAnswer } } }, async (request) =>
    fencing.undrain(request.params.id),
  );
  app.post(
    '/hosts/:id/evacuate',
    { schema: { params: HostParams, body: EvacuateBody, response: { 200: EvacuationReport } } },
    async (request) => evacuation.evacuate(request.params.id, request.body),
  );
  app.put('/hosts/:id/fence', { schema: { params: HostParams, body: FenceBody, response: { 200: HostView } } }, async (request) =>
    fencing.setFence(request.params.id, request.body),
  );
  app.delete('/hosts/:id/fence', { schema: { params: HostParams, response: { 200: HostView } } }, async (request) =>
    fencing.setFence(request.params.id, null),
  );
  app.post('/hosts/:id/declare-dead', { schema: { params: HostParams, response: { 200: DeathReport } } }, async (request) =>
    fencing.declareDead(request.params.id),
  );
};

/** Enrolment: the single-use token in the body is the credential. */
export const hostJoinRoutes: FastifyPluginAsyncTypebox<HostRouteOptions> = async (app, { hosts }) => {
  app.post('/hosts/join', { schema: { body: JoinBody, response: { 200: JoinAnswer } } }, async (request) => hosts.join(request.body));
};

/** Heartbeats and certificate renewal: the host's client certificate is the credential. */
export const hostAgentRoutes: FastifyPluginAsyncTypebox<HostRouteOptions> = async (app, { hosts }) => {
  app.addHook('onRequest', requireHost(hosts));
  app.addHook('onRoute', documentAuth('host'));
  app.post(
    '/hosts/heartbeat',
    { bodyLimit: 4 * 1024 * 1024, schema: { body: HeartbeatBody, response: { 200: HeartbeatAnswer } } },
    async (request) => hosts.heartbeat(request.enrolledHost!.cert_serial, request.body),
  );
  app.post('/hosts/renew', { schema: { body: RenewBody, response: { 200: RenewAnswer } } }, async (request) =>
    hosts.renew(request.enrolledHost!, request.body),
  );
};
