/**
 * Test fixture playing the manager towards stormd: a real HTTPS server (fastify, 127.0.0.1, port
 * 0) with a real CA from the PKI library. It serves what stormd calls — the CA, the CRL, join,
 * heartbeat and layer blobs (mutual TLS) — and records every request, so tests can say what a
 * host sent and what it fetched. The real manager's side is built elsewhere; this only plays it.
 *
 * @example
 * const manager = await startFakeManager();
 * const token = manager.newToken();
 * await joinManager({ managerUrl: manager.url, token, dataDir, name: 'host-1', url: 'https://127.0.0.1:9443' });
 * const sha = manager.addBlob(Buffer.from('layer'));
 * await manager.close();
 */
import { createHash } from 'node:crypto';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { CertificateAuthority } from '../../trust/certificate-authority.js';
import { buildCertificate, type IssuedCertificate } from '../../trust/certificate-builder.js';
import { readCsr } from '../../trust/csr.js';
import { createEnrolmentToken, decodeEnrolmentToken, verifyTokenSecret } from '../../trust/enrolment-token.js';
import { parseAltNames } from '../../trust/names.js';
import { MANAGER_COMMON_NAME, serverExtensions, validityWindow } from '../../trust/profiles.js';
import { roleExtension } from '../../trust/roles.js';
import { pkiFixture, type PkiFixture } from '../../trust/test-support/fixtures.js';
import { clientTlsOptions, httpsServerOptions } from '../../trust/index.js';
import type { HeartbeatRequest, HeartbeatResponse, JoinRequest, JoinResponse } from '../../stormd/protocol.js';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  /** The verified client certificate's CN, when the client sent one the CA issued. */
  readonly clientCn: string | undefined;
}

export interface FakeManager {
  readonly url: string;
  readonly pki: PkiFixture;
  readonly ca: CertificateAuthority;
  /** The manager's client certificate towards stormd (manager role, clientAuth) and its key: join pins it. */
  readonly client: { readonly certPem: string; readonly keyPem: string };
  readonly requests: RecordedRequest[];
  readonly heartbeats: { readonly clientCn: string; readonly body: HeartbeatRequest }[];
  /** Blob fetches by `<clientCn> <sha256>`. */
  readonly blobFetches: Map<string, number>;
  /** A single-use token for this manager's CA (or another fingerprint, to test pinning). */
  newToken(caFingerprint?: string): string;
  addBlob(bytes: Buffer): string;
  /** Serves `bytes` under `sha256` (which they do not hash to). */
  corruptBlob(sha256: string, bytes: Buffer): void;
  /** Holds every fetch of `sha256` until the returned function is called (a slow manager, to make a host's call slow). */
  stallBlob(sha256: string): () => void;
  /** Revokes a serial and publishes a CRL with the next number; heartbeats announce it. */
  revoke(serial: string): void;
  readonly crlNumber: number;
  /** What heartbeats answer as the next interval. */
  intervalMs: number;
  close(): Promise<void>;
}

const CLIENT_AUTH_AND_SERVER_AUTH = { name: 'extKeyUsage', serverAuth: true, clientAuth: true };

export async function startFakeManager(opts: { intervalMs?: number } = {}): Promise<FakeManager> {
  const pki = await pkiFixture(3);
  const ca = pki.ca;
  const httpsCert = ca.issueServerCertificate({
    publicKeyPem: pki.keys[0]!.publicKeyPem,
    names: ['127.0.0.1', 'localhost'],
    role: 'manager',
  });
  const client = {
    certPem: ca.issueClientCertificate({ publicKeyPem: pki.keys[1]!.publicKeyPem, role: 'manager' }).certPem,
    keyPem: pki.keys[1]!.privateKeyPem,
  };
  const tokens = new Map<string, { secretHash: string; used: boolean }>();
  const revoked: { serial: string; revokedAt: Date }[] = [];
  let crlNumber = 1;
  let crl = ca.buildCrl([], crlNumber);
  const blobs = new Map<string, Buffer>();
  const stalls = new Map<string, Promise<void>>();
  const requests: RecordedRequest[] = [];
  const heartbeats: { clientCn: string; body: HeartbeatRequest }[] = [];
  const blobFetches = new Map<string, number>();
  const hosts = new Set<string>();

  const app: FastifyInstance = Fastify({
    // Clients may present a certificate (hosts do for heartbeats and blobs); the routes check it.
    https: {
      ...httpsServerOptions({ cert: httpsCert.certPem, key: pki.keys[0]!.privateKeyPem, caCert: ca.certPem }),
      ca: ca.certPem,
      requestCert: true,
      rejectUnauthorized: false,
    },
  });
  const clientCn = (req: FastifyRequest): string | undefined => {
    const socket = req.raw.socket as TLSSocket;
    if (!socket.authorized) return undefined;
    const cn: unknown = socket.getPeerCertificate().subject?.CN;
    return typeof cn === 'string' ? cn : undefined;
  };
  app.addHook('onRequest', async (req) => {
    requests.push({ method: req.method, path: req.url, clientCn: clientCn(req) });
  });
  const refuse = (status: number, code: string, message: string) => Object.assign(new Error(message), { statusCode: status, code });
  app.setErrorHandler(async (err: Error & { statusCode?: number; code?: string }, _req, reply) =>
    reply.status(err.statusCode ?? 500).send({ code: err.code ?? 'MGR_ERR_INTERNAL', message: err.message }),
  );

  app.get('/api/v1/pki/ca', async (_req, reply) => reply.type('application/x-pem-file').send(ca.certPem));
  app.get('/api/v1/pki/crl', async (_req, reply) => reply.type('application/pkix-crl').send(crl));

  app.post('/api/v1/hosts/join', async (req): Promise<JoinResponse> => {
    const body = req.body as JoinRequest;
    let parts: ReturnType<typeof decodeEnrolmentToken>;
    try {
      parts = decodeEnrolmentToken(body.token);
    } catch {
      throw refuse(403, 'MGR_ERR_TOKEN_REFUSED', 'the enrolment token is not valid');
    }
    const row = tokens.get(parts.id);
    if (!row || row.used || !verifyTokenSecret(parts.secret, row.secretHash))
      throw refuse(403, 'MGR_ERR_TOKEN_REFUSED', 'the enrolment token is unknown, used or expired');
    row.used = true;
    const { publicKeyPem } = readCsr(body.csr);
    const names = parseAltNames([body.name, '127.0.0.1']);
    // Host certificates serve stormd's API and dial the manager (heartbeat, blobs): both purposes.
    const extensions = [
      ...serverExtensions(pki.caSigner.keyIdentifier, names).map((e) => (e.name === 'extKeyUsage' ? CLIENT_AUTH_AND_SERVER_AUTH : e)),
      roleExtension('host'),
    ];
    const cert: IssuedCertificate = buildCertificate({
      commonName: body.name,
      publicKeyPem,
      issuer: pki.caSigner,
      ...validityWindow(new Date(), 30),
      extensions,
    });
    hosts.add(body.name);
    return {
      hostId: `host-${hosts.size}`,
      certificate: cert.certPem,
      caCertificate: ca.certPem,
      crl,
      managerName: MANAGER_COMMON_NAME,
      managerCertificate: client.certPem,
    };
  });

  app.post('/api/v1/hosts/heartbeat', async (req): Promise<HeartbeatResponse> => {
    const cn = clientCn(req);
    if (!cn || !hosts.has(cn)) throw refuse(401, 'MGR_ERR_UNAUTHORIZED', 'heartbeats need a host certificate');
    heartbeats.push({ clientCn: cn, body: req.body as HeartbeatRequest });
    return { intervalMs: fake.intervalMs, crlNumber };
  });

  app.get('/api/v1/images/:sha/blob', async (req, reply) => {
    const cn = clientCn(req);
    if (!cn || !hosts.has(cn)) throw refuse(401, 'MGR_ERR_UNAUTHORIZED', 'blobs need a host certificate');
    const { sha } = req.params as { sha: string };
    const bytes = blobs.get(sha);
    if (!bytes) throw refuse(404, 'MGR_ERR_NOT_FOUND', sha);
    blobFetches.set(`${cn} ${sha}`, (blobFetches.get(`${cn} ${sha}`) ?? 0) + 1);
    await stalls.get(sha);
    return reply.type('application/octet-stream').send(bytes);
  });

  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;

  const fake: FakeManager = {
    url: `https://127.0.0.1:${port}`,
    pki,
    ca,
    client,
    requests,
    heartbeats,
    blobFetches,
    intervalMs: opts.intervalMs ?? 200,
    get crlNumber() {
      return crlNumber;
    },
    newToken(caFingerprint = ca.fingerprint) {
      const { token, id, secretHash } = createEnrolmentToken(caFingerprint);
      tokens.set(id, { secretHash, used: false });
      return token;
    },
    addBlob(bytes) {
      const sha = createHash('sha256').update(bytes).digest('hex');
      blobs.set(sha, bytes);
      return sha;
    },
    corruptBlob(sha, bytes) {
      blobs.set(sha, bytes);
    },
    stallBlob(sha) {
      let release!: () => void;
      stalls.set(sha, new Promise<void>((resolve) => (release = resolve)));
      return () => {
        stalls.delete(sha);
        release();
      };
    },
    revoke(serial) {
      revoked.push({ serial, revokedAt: new Date() });
      crlNumber += 1;
      crl = ca.buildCrl(revoked, crlNumber);
    },
    close: () => app.close(),
  };
  return fake;
}

export interface StormdAnswer {
  readonly status: number;
  readonly body: unknown;
}

/**
 * One request to a stormd at `baseUrl` as the manager would make it (mutual TLS, verified against
 * the fake manager's CA). `client` overrides the certificate chain and key presented (`{}`: none).
 * Rejects when TLS refuses the connection.
 *
 * @example
 * const { status, body } = await callStormd(manager, stormd.url, 'GET', '/v1/host');
 */
export function callStormd(
  manager: FakeManager,
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  client: { cert?: string; key?: string } = { cert: manager.client.certPem, key: manager.client.keyPem },
): Promise<StormdAnswer> {
  const url = new URL(path, baseUrl);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        ...clientTlsOptions({
          ca: manager.ca.certPem,
          servername: url.hostname,
          ...(client.cert ? { cert: client.cert, key: client.key } : {}),
        }),
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method,
        agent: false,
        headers: payload ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as unknown) : undefined });
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(120_000, () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(payload);
  });
}
