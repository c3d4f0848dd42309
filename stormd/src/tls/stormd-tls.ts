/**
 * stormd's HTTPS listener: OpenSSL (through `serverTlsOptions`) refuses every client certificate
 * that is not from the STORM CA, valid, unrevoked and clientAuth; then, before the HTTP layer ever
 * sees the connection, `checkPeer` refuses any certificate without the manager role or, when the
 * join pinned one, for another key than the manager's (another host's certificate, whatever its name).
 * Each refusal is logged with its reason. A newer CRL and a renewed certificate are swapped in
 * without a restart.
 *
 * @example
 * const tls = new StormdTls(identity);
 * const app = Fastify({ serverFactory: (handler) => tls.createServer(handler) });
 * tls.setLogger(app.log);
 * tls.reloadCrl(newCrlPem); // later connections are checked against it
 */
import type { RequestListener } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { checkPeer, onTlsRefusal, serverTlsOptions } from '../../../trust/index.js';
import { errorMessage } from '../../../common/errors.js';
import { readCrl } from './crl-info.js';

/** What the listener needs from the join files. */
export interface TlsMaterial {
  readonly certPem: string;
  readonly keyPem: string;
  readonly caPem: string;
  readonly crlPem: string;
  /** `sha256:<hex>` of the only client key accepted (the manager's, host.json's managerKey); absent: any key with the manager role. */
  readonly managerKey?: string;
}

/** The slice of a pino/fastify logger this uses. */
export interface TlsLog {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

const silent: TlsLog = { warn: () => undefined, info: () => undefined };

type ConnectionListener = (socket: TLSSocket) => void;

export class StormdTls {
  private material: TlsMaterial;
  private server: Server | undefined;
  private log: TlsLog = silent;
  /** Accepted connections and their peer's serial, so a revocation can close them. */
  private readonly open = new Map<TLSSocket, string>();

  constructor(material: TlsMaterial) {
    this.material = material;
  }

  get crlPem(): string {
    return this.material.crlPem;
  }

  setLogger(log: TlsLog): void {
    this.log = log;
  }

  /** An https.Server for `handler` whose connections pass the gate first. */
  createServer(handler: RequestListener): Server {
    const server = createServer(this.options(), handler);
    this.gate(server);
    this.server = server;
    return server;
  }

  /**
   * Loads a new CRL into the running listener: connections from now on are checked against it,
   * and open (keep-alive) connections of a certificate it revokes are closed.
   */
  reloadCrl(crlPem: string): void {
    const revoked = new Set(readCrl(crlPem, this.material.caPem).revokedSerials);
    this.material = { ...this.material, crlPem };
    this.server?.setSecureContext(this.options());
    for (const [socket, serial] of this.open) {
      if (!revoked.has(serial)) continue;
      this.log.warn({ remoteAddress: socket.remoteAddress, serial }, 'closing a connection whose certificate was revoked');
      socket.destroy();
    }
  }

  /** Serves a renewed certificate from the next handshake on; open connections keep theirs. */
  reloadIdentity(pair: { certPem: string; keyPem: string }): void {
    this.material = { ...this.material, ...pair };
    this.server?.setSecureContext(this.options());
  }

  private options() {
    const m = this.material;
    return serverTlsOptions({ cert: m.certPem, key: m.keyPem, ca: m.caPem, crl: m.crlPem });
  }

  /** Puts `checkPeer` in front of the HTTP layer's own 'secureConnection' listener. */
  private gate(server: Server): void {
    // https.Server hands sockets to HTTP from 'secureConnection'; take those listeners and call them only for the manager.
    const downstream = server.listeners('secureConnection') as ConnectionListener[];
    server.removeAllListeners('secureConnection');
    server.on('secureConnection', (socket: TLSSocket) => {
      try {
        const peer = checkPeer(socket, { role: 'manager', ...(this.material.managerKey ? { keyPin: this.material.managerKey } : {}) });
        this.open.set(socket, peer.serial);
        socket.once('close', () => this.open.delete(socket));
      } catch (err) {
        this.log.warn(
          { remoteAddress: socket.remoteAddress, remotePort: socket.remotePort, reason: errorMessage(err) },
          'client certificate refused',
        );
        socket.destroy();
        return;
      }
      for (const listener of downstream) listener.call(server, socket);
    });
    onTlsRefusal(server, (refusal) => this.log.warn({ ...refusal }, 'TLS client refused'));
  }
}
