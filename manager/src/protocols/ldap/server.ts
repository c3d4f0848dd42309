/**
 * The manager's LDAP server (`--ldap-listen`): a read-only view of the directory for appliances
 * and administrators, over LDAPv3 on TCP, with StartTLS when given a certificate. Simple bind
 * only, never anonymous; searches with real filter evaluation; writes refused. See session.ts for
 * the rules, connection.ts for the limits, docs/network-services.md for the tree.
 *
 * @example
 * const ldap = new LdapServer({ listen: '10.77.0.1:389' }, { directory });
 * await ldap.start();
 * ldap.address; // { host: '10.77.0.1', port: 389 }
 * ldap.stats(); // { connections, binds, bindsFailed, searches, malformed, … }
 * await ldap.close();
 */
import { createServer, type Server, type Socket } from 'node:net';
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import { STORM_VERSION } from '../../../../common/version.js';
import { MgrErr } from '../../errors.js';
import { ConnectionLimit } from '../connection-limit.js';
import { type LdapServerConfig, type ResolvedLdapConfig, resolveLdapConfig } from './config.js';
import { LdapConnection } from './connection.js';
import type { DecodeLimits } from './decode.js';
import type { LdapEncoder } from './encoder.js';
import { type LdapEntry, makeEntry } from './entry.js';
import { LdapjsEncoder } from './ldapjs-encoder.js';
import { Oid } from './protocol.js';
import { LdapSession } from './session.js';
import type { DirectoryReader } from './source.js';
import { emptyStats, type LdapStats } from './stats.js';
import { DirectoryTree } from './tree.js';
import type { NetworkService } from '../network-service.js';

export interface LdapServerDeps {
  readonly directory: DirectoryReader;
  /** Default: ldapjs's message classes. */
  readonly encoder?: LdapEncoder;
  readonly log?: (message: string) => void;
  /** The server's certificate and key: StartTLS is offered when present. */
  readonly tls?: SecureContextOptions;
}

/** The root DSE (RFC 4512 §5.1): what a client reads to learn the naming context and what we support. */
export function rootDse(baseDn: string, opts: { startTls?: boolean } = {}): LdapEntry {
  return makeEntry('', {
    objectClass: 'top',
    namingContexts: baseDn,
    supportedLDAPVersion: 3,
    supportedExtension: opts.startTls ? [Oid.whoAmI, Oid.startTls] : [Oid.whoAmI],
    supportedControl: [Oid.manageDsaIT],
    vendorName: 'STORM',
    vendorVersion: STORM_VERSION,
  });
}

export class LdapServer implements NetworkService {
  readonly name = 'ldap';
  readonly config: ResolvedLdapConfig;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly limit: ConnectionLimit;
  private readonly counters: LdapStats = emptyStats();
  private readonly encoder: LdapEncoder;
  private readonly decodeLimits: DecodeLimits;
  private readonly root: LdapEntry;
  private readonly tls: SecureContext | undefined;
  private cachedTree: DirectoryTree | undefined;

  constructor(
    config: LdapServerConfig,
    private readonly deps: LdapServerDeps,
  ) {
    this.config = resolveLdapConfig(config);
    this.limit = new ConnectionLimit({ total: this.config.maxConnections, perSource: this.config.maxConnectionsPerSource });
    this.encoder = deps.encoder ?? new LdapjsEncoder();
    this.decodeLimits = {
      filter: { maxDepth: this.config.maxFilterDepth, maxNodes: this.config.maxFilterNodes },
      maxControls: 16,
      maxAttributes: 128,
    };
    // Built once: a context per connection would cost a key load per client.
    this.tls = deps.tls ? createSecureContext({ minVersion: 'TLSv1.2', ...deps.tls }) : undefined;
    if (this.config.requireTls && !this.tls)
      throw MgrErr.MGR_ERR_LDAP_CONFIG('requireTls needs a certificate (tls) to offer StartTLS with');
    this.root = rootDse(this.config.baseDn, { startTls: this.tls !== undefined });
  }

  async start(): Promise<void> {
    if (this.server) throw MgrErr.MGR_ERR_INTERNAL('ldap server already started');
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: this.config.host, port: this.config.port, exclusive: true }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      this.server = undefined;
      throw err;
    }
    server.on('error', (err) => this.deps.log?.(`ldap: ${err.message}`));
    // Build the tree now, so a broken directory shows at start rather than at the first bind.
    await this.tree();
  }

  /** Where it listens (the real port when `listen` said 0). */
  get address(): { host: string; port: number } {
    const a = this.server?.address();
    return { host: this.config.host, port: a && typeof a === 'object' ? a.port : this.config.port };
  }

  listensOn(): string {
    return `tcp ${this.address.host}:${this.address.port}`;
  }

  stats(): LdapStats {
    return { ...this.counters, activeConnections: this.sockets.size };
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  /** The tree for the directory's current version, rebuilt only after a change. */
  private async tree(): Promise<DirectoryTree> {
    const snapshot = await this.deps.directory.snapshot();
    if (this.cachedTree?.version !== snapshot.version) this.cachedTree = DirectoryTree.build(snapshot, this.config.baseDn);
    return this.cachedTree;
  }

  private accept(socket: Socket): void {
    // A socket error before our listeners exist must not reach the process.
    socket.on('error', () => socket.destroy());
    if (!this.server || !this.limit.admit(socket)) {
      this.counters.rejectedConnections++;
      socket.destroy();
      return;
    }
    this.counters.connections++;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    const session = new LdapSession({
      reader: this.deps.directory,
      tree: () => this.tree(),
      rootDse: this.root,
      sizeLimit: this.config.sizeLimit,
      stats: this.counters,
      requireTls: this.config.requireTls,
      tlsOffered: this.tls !== undefined,
    });
    try {
      new LdapConnection(socket, {
        config: this.config,
        decodeLimits: this.decodeLimits,
        encoder: this.encoder,
        session,
        stats: this.counters,
        log: this.deps.log,
        ...(this.tls ? { tls: this.tls } : {}),
      });
    } catch (err) {
      this.counters.internalErrors++;
      this.deps.log?.(`ldap: ${err instanceof Error ? err.message : String(err)}`);
      socket.destroy();
    }
  }
}
