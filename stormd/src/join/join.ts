/**
 * `stormd join`: enrol this host with a manager using a single-use token.
 *
 * 1. The token carries the fingerprint of the manager's CA. stormd reads `GET /api/v1/pki/ca`
 *    over TLS without trusting anything yet, and refuses (sending nothing else) unless that
 *    certificate's fingerprint is the token's.
 * 2. From then on the manager's TLS certificate is verified against that CA: stormd makes its
 *    RSA key and a CSR, `POST /api/v1/hosts/join`, checks the answer (the certificate is for its
 *    key and from that CA, the CRL is signed by it) and writes key.pem, cert.pem, ca.pem, crl.pem
 *    and, last, host.json.
 *
 * @example
 * const record = await joinManager({ managerUrl: 'https://m:8443', token, dataDir: '/var/lib/stormd', name: 'host-1', url: 'https://host-1:9443' });
 * record.hostId; // the manager's id for this host
 */
import { X509Certificate } from 'node:crypto';
import Type from 'typebox';
import Value from 'typebox/value';
import { errorMessage } from '../../../common/errors.js';
import { certificateFingerprint, createCsr, decodeEnrolmentToken, generateKeyPair, hasRole, publicKeyPin } from '../../../trust/index.js';
import type { JoinRequest, JoinResponse } from '../../protocol.js';
import { StormdErr } from '../errors.js';
import { checkHostCertificate } from '../identity/check-certificate.js';
import { type HostRecord, isJoined, writeHostIdentity } from '../identity/host-identity.js';
import { httpsRequest, readBody } from '../net/https-request.js';
import { describeError, ManagerClient, tlsText } from '../net/manager-client.js';
import { readCrl } from '../tls/crl-info.js';

export const CA_PATH = '/api/v1/pki/ca';
export const JOIN_PATH = '/api/v1/hosts/join';

export interface JoinOptions {
  readonly managerUrl: string;
  readonly token: string;
  readonly dataDir: string;
  /** The host's name: its certificate's name and the name the manager dials. */
  readonly name: string;
  /** Where the manager reaches this stormd, e.g. `https://host-1:9443`. */
  readonly url: string;
  /** Join again over an earlier join's files. */
  readonly force?: boolean;
  readonly timeoutMs?: number;
  /** Progress lines for the operator. */
  readonly log?: (line: string) => void;
}

const JoinResponseSchema = Type.Object({
  hostId: Type.String({ minLength: 1, maxLength: 200 }),
  certificate: Type.String({ minLength: 1 }),
  caCertificate: Type.String({ minLength: 1 }),
  crl: Type.String({ minLength: 1 }),
  managerName: Type.String({ minLength: 1, maxLength: 200 }),
  managerCertificate: Type.String({ minLength: 1, maxLength: 64 * 1024 }),
});

export async function joinManager(opts: JoinOptions): Promise<HostRecord> {
  const log = opts.log ?? (() => undefined);
  const managerUrl = managerOrigin(opts.managerUrl);
  if (!/^https:\/\//.test(opts.url)) throw StormdErr.STORMD_ERR_BAD_INPUT(`--url ${JSON.stringify(opts.url)} must be an https URL`);
  if (!opts.force && (await isJoined(opts.dataDir))) {
    throw StormdErr.STORMD_ERR_ALREADY_JOINED(`${opts.dataDir} already holds host.json; pass --force to join again`);
  }
  let caFingerprint: string;
  try {
    caFingerprint = decodeEnrolmentToken(opts.token).caFingerprint;
  } catch (err) {
    throw StormdErr.STORMD_ERR_BAD_INPUT(`--token: ${errorMessage(err)}`, { cause: err });
  }

  const caPem = await fetchPinnedCa(managerUrl, caFingerprint, opts.timeoutMs);
  log(`manager CA ${caFingerprint} matches the token`);

  const { privateKeyPem } = await generateKeyPair();
  const request: JoinRequest = { token: opts.token, csr: createCsr(privateKeyPem, opts.name), name: opts.name, url: opts.url };
  const client = new ManagerClient({ managerUrl, caPem, ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}) });
  const res = await client.post(JOIN_PATH, request);
  if (res.status === 401 || res.status === 403 || res.status === 404 || res.status === 409 || res.status === 410) {
    throw StormdErr.STORMD_ERR_JOIN_REFUSED(await describeError(res), { details: { status: res.status } });
  }
  if (res.status < 200 || res.status >= 300) throw StormdErr.STORMD_ERR_MANAGER_RESPONSE(`${JOIN_PATH}: ${await describeError(res)}`);
  const answer = await client.json<unknown>(res, JOIN_PATH);
  if (!Value.Check(JoinResponseSchema, answer)) throw StormdErr.STORMD_ERR_MANAGER_RESPONSE(`${JOIN_PATH}: not a JoinResponse`);
  const managerKey = checkJoinResponse(answer, caFingerprint, privateKeyPem, log);
  log(`manager key ${managerKey} pinned`);

  const record: HostRecord = {
    hostId: answer.hostId,
    managerUrl,
    managerName: answer.managerName,
    managerKey,
    name: opts.name,
    url: opts.url,
  };
  await writeHostIdentity(opts.dataDir, {
    record,
    keyPem: privateKeyPem,
    certPem: answer.certificate,
    caPem: answer.caCertificate,
    crlPem: answer.crl,
  });
  return record;
}

/** `https://m:8443/anything` → `https://m:8443`; only https. */
export function managerOrigin(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw StormdErr.STORMD_ERR_BAD_INPUT(`manager URL ${JSON.stringify(url)} is not a URL`);
  }
  if (parsed.protocol !== 'https:') throw StormdErr.STORMD_ERR_BAD_INPUT(`manager URL ${url} must be https`);
  return parsed.origin;
}

/** Reads the manager's CA without trusting the connection, and keeps it only if it is the token's. */
export async function fetchPinnedCa(managerUrl: string, fingerprint: string, timeoutMs = 30_000): Promise<string> {
  const url = new URL(CA_PATH, managerUrl);
  let text: string;
  try {
    // Unverified on purpose: what comes back is trusted only if its fingerprint is the token's.
    const res = await httpsRequest(url, { rejectUnauthorized: false, minVersion: 'TLSv1.2' }, { method: 'GET', timeoutMs });
    if (res.status !== 200) throw new Error(await describeError(res));
    text = (await readBody(res.body, 64 * 1024)).toString('utf8');
  } catch (err) {
    throw StormdErr.STORMD_ERR_FETCH_FAILED(`${url.href}: ${tlsText(err)}`, { cause: err });
  }
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(text)?.[0];
  let cert: X509Certificate;
  try {
    if (!pem) throw new Error('no PEM certificate');
    cert = new X509Certificate(pem);
  } catch (err) {
    throw StormdErr.STORMD_ERR_MANAGER_RESPONSE(`${url.href}: ${errorMessage(err)}`, { cause: err });
  }
  const got = certificateFingerprint(cert.raw);
  if (got !== fingerprint)
    throw StormdErr.STORMD_ERR_FINGERPRINT_MISMATCH(`${managerUrl} presented ${got}, the token names ${fingerprint}`);
  if (!cert.ca) throw StormdErr.STORMD_ERR_MANAGER_RESPONSE(`${url.href}: the pinned certificate is not a CA`);
  return cert.toString();
}

/** The certificate is for our key and from the pinned CA; the CRL is that CA's; the manager's certificate has its role. Answers the key to pin. */
function checkJoinResponse(answer: JoinResponse, fingerprint: string, keyPem: string, log: (line: string) => void): string {
  const bad = (why: string) => StormdErr.STORMD_ERR_MANAGER_RESPONSE(`${JOIN_PATH}: ${why}`);
  let ca: X509Certificate;
  try {
    ca = new X509Certificate(answer.caCertificate);
  } catch {
    throw bad('caCertificate does not parse');
  }
  if (certificateFingerprint(ca.raw) !== fingerprint) throw bad('caCertificate is not the pinned CA');
  const { clientAuth } = checkHostCertificate(answer.certificate, ca, keyPem, bad);
  if (!clientAuth) log('warning: the host certificate has no clientAuth; heartbeats and layer fetches over mutual TLS will be refused');
  readCrl(answer.crl, answer.caCertificate);
  return checkManagerCertificate(answer.managerCertificate, ca, bad);
}

/** The manager's client certificate: from the CA, clientAuth, the manager role. Answers its key pin. */
function checkManagerCertificate(pem: string, ca: X509Certificate, bad: (why: string) => Error): string {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    throw bad('managerCertificate does not parse');
  }
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) throw bad('managerCertificate was not issued by the CA');
  if (!(cert.keyUsage ?? []).includes('1.3.6.1.5.5.7.3.2')) throw bad('managerCertificate has no clientAuth');
  if (!hasRole(cert.raw, 'manager')) throw bad('managerCertificate does not carry the manager role');
  return publicKeyPin(cert.raw);
}
