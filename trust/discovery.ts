/**
 * A joining host's first contact (kubeadm's discovery hash): it does not trust the manager yet,
 * so it takes the certificates the manager presents in the TLS handshake, keeps the one whose
 * SHA-256 matches the enrolment token's fingerprint, checks that CA issued the manager's
 * certificate, and closes without writing a byte. Everything after uses that CA with normal,
 * verified TLS (`clientTlsOptions`).
 */
import { X509Certificate } from 'node:crypto';
import { connect, type DetailedPeerCertificate } from 'node:tls';
import { isIP } from 'node:net';
import { PkiErr } from './errors.js';
import { certificateFingerprint, fingerprintBytes } from './fingerprint.js';

export interface DiscoveryTarget {
  readonly host: string;
  readonly port: number;
  /** `sha256:<hex>` from the enrolment token. */
  readonly caFingerprint: string;
  readonly timeoutMs?: number;
}

/** The presented chain, leaf first; a self-signed root points at itself, which ends the walk. */
function presentedChain(leaf: DetailedPeerCertificate): Buffer[] {
  const chain: Buffer[] = [];
  for (let cert: DetailedPeerCertificate | undefined = leaf; cert?.raw && chain.length < 10; cert = cert.issuerCertificate) {
    if (chain.some((der) => der.equals(cert!.raw))) break;
    chain.push(cert.raw);
  }
  return chain;
}

function pinnedCa(chain: readonly Buffer[], fingerprint: string): string {
  const ca = chain.find((der) => certificateFingerprint(der) === fingerprint);
  if (!ca) throw PkiErr.MGR_ERR_PKI_FINGERPRINT_MISMATCH(`no presented certificate has ${fingerprint}`);
  const caCert = new X509Certificate(ca);
  const leaf = new X509Certificate(chain[0]!);
  if (!caCert.ca || !leaf.checkIssued(caCert) || !leaf.verify(caCert.publicKey)) {
    throw PkiErr.MGR_ERR_PKI_FINGERPRINT_MISMATCH("the pinned CA did not issue the manager's certificate");
  }
  return caCert.toString();
}

/**
 * Returns the manager's CA certificate (PEM) once its fingerprint matches; sends no application data.
 *
 * @example
 * const token = decodeEnrolmentToken(joinToken);
 * const caPem = await discoverCaCertificate({ host: 'manager.example', port: 8443, caFingerprint: token.caFingerprint });
 * const socket = tls.connect({ host, port, ...clientTlsOptions({ ca: caPem, servername: 'manager.example' }) });
 */
export function discoverCaCertificate(target: DiscoveryTarget): Promise<string> {
  fingerprintBytes(target.caFingerprint);
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: target.host,
      port: target.port,
      ...(isIP(target.host) ? {} : { servername: target.host }),
      // Unverified on purpose: this connection only reads the presented chain and is then closed.
      rejectUnauthorized: false,
      timeout: target.timeoutMs ?? 10_000,
    });
    const fail = (err: unknown): void => {
      socket.destroy();
      reject(
        PkiErr.MGR_ERR_PKI_FINGERPRINT_MISMATCH.is(err)
          ? err
          : PkiErr.MGR_ERR_PKI_DISCOVERY_FAILED(`${target.host}:${target.port}`, { cause: err }),
      );
    };
    socket.once('timeout', () => fail(new Error('timed out')));
    socket.once('error', fail);
    socket.once('secureConnect', () => {
      try {
        const caPem = pinnedCa(presentedChain(socket.getPeerCertificate(true)), target.caFingerprint);
        socket.destroy();
        resolve(caPem);
      } catch (err) {
        fail(err);
      }
    });
  });
}
