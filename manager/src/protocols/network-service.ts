/**
 * One protocol server the manager runs for guests and administrators' tools (DNS, DHCP, LDAP, the
 * guests' XML-RPC listener): a plain class with injected dependencies that starts and closes, so
 * it runs without fastify and a test starts it alone.
 *
 * @example
 * const dns: NetworkService = new DnsServer({ listen: '10.77.0.1:53', networks: ['10.77.0.0/24'] }, { zone });
 * await dns.start();
 * dns.listensOn(); // 'udp+tcp 10.77.0.1:53'
 * await dns.close();
 */
export interface NetworkService {
  /** Its protocol, one word: `dns`, `dhcp`, `ldap`, `xmlrpc`. */
  readonly name: string;
  /** Where it listens (the bound port once started), e.g. `udp+tcp 10.77.0.1:53`. */
  listensOn(): string;
  /** Binds; resolves once it answers. */
  start(): Promise<void>;
  /** Stops answering and frees what it bound; harmless when it never started. */
  close(): Promise<void>;
}
