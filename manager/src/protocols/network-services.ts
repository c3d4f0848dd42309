/**
 * Starts the network services the config asks for, each through the registry: LDAP
 * (`--ldap-listen`), DNS (`--dns-listen`) and DHCP (`--dhcp-interface`) over the manager's
 * database, then the guests' XML-RPC listener (`--guest-listen`) and the Kerberos KDC
 * (`--kdc-listen`); forgets an instance's lease when
 * it goes. DNS and DHCP need `--network` (the appliance network and the manager's address in it).
 *
 * @example
 * const services = new NetworkServices({ config, db, net, records, directory, ldapBaseDn, guestApp, log });
 * await services.start();
 * await services.close();
 */
import { parseHostPort } from '../../../common/config.js';
import type { ManagerConfig } from '../config.js';
import type { Database } from '../db/database.js';
import { MgrErr } from '../errors.js';
import { DhcpServer } from './dhcp/server.js';
import { SqliteLeaseStore } from './dhcp/sqlite-lease-store.js';
import { DnsServer } from './dns/server.js';
import { LdapServer } from './ldap/server.js';
import { NetworkServiceRegistry } from './registry.js';
import { type GuestAppDeps, GuestListener } from './xmlrpc/guest-app.js';
import type { DirectoryStore } from '../directory/store.js';
import { DbReservations, DbZoneSource } from './db-sources.js';
import type { NetworkSettings } from '../network/network-settings.js';
import type { RecordStore } from '../network/record-store.js';
import { toRegistered } from '../network/dns-records.js';
import type { KerberosService } from '../kerberos/kerberos-service.js';

export interface NetworkServicesOptions {
  readonly config: ManagerConfig;
  readonly db: Database;
  readonly net: NetworkSettings | null;
  readonly records: RecordStore;
  readonly directory: DirectoryStore;
  readonly ldapBaseDn: string;
  /** The certificate LDAP offers through StartTLS. */
  readonly ldapTls?: { cert: string; key: string };
  /** What the guests' own listener serves, when `--guest-listen` asks for one. */
  readonly guestApp: GuestAppDeps;
  readonly log: (msg: string) => void;
  /** The Kerberos realm (`--kdc-listen`): its KDC starts and closes with the others; DNS serves its `_kerberos` records. */
  readonly kerberos?: KerberosService | null;
}

export class NetworkServices {
  readonly registry = new NetworkServiceRegistry();
  dns: DnsServer | undefined;
  dhcp: DhcpServer | undefined;
  ldap: LdapServer | undefined;

  constructor(private readonly opts: NetworkServicesOptions) {
    const { config, net } = opts;
    if ((config.dnsListen || config.dhcpInterface) && !net)
      throw MgrErr.MGR_ERR_VALIDATION('--dns-listen and --dhcp-interface need --network (the appliance network)');
  }

  async start(): Promise<void> {
    const { config, net, log } = this.opts;
    // The directory needs no appliance network: administrators' tools may use it too.
    if (config.ldapListen) {
      const tls = this.opts.ldapTls;
      this.ldap = new LdapServer(
        { listen: config.ldapListen, baseDn: this.opts.ldapBaseDn, requireTls: config.ldapRequireTls },
        { directory: this.opts.directory, log, ...(tls ? { tls } : {}) },
      );
      await this.registry.start(this.ldap);
      log(
        `LDAP on ${config.ldapListen} for ${this.opts.ldapBaseDn}${tls ? `, StartTLS${config.ldapRequireTls ? ' required for binds' : ' offered'}` : ''}`,
      );
    }
    if (net) await this.startNetwork(net);
    if (config.guestListen) await this.registry.start(new GuestListener(config.guestListen, this.opts.guestApp));
    if (this.opts.kerberos) await this.registry.start(this.opts.kerberos);
  }

  /** DNS and DHCP on the appliance network. */
  private async startNetwork(net: NetworkSettings): Promise<void> {
    const { config, db, records, log } = this.opts;
    if (config.dnsListen) {
      const dnsUpstream = config.dnsUpstream || undefined;
      this.dns = new DnsServer(
        { listen: config.dnsListen, domain: config.domain, networks: [net.cidrText], ...(dnsUpstream ? { upstream: dnsUpstream } : {}) },
        {
          zone: new DbZoneSource(
            db,
            records,
            net,
            (this.opts.kerberos?.dnsRecords() ?? []).map((r) => toRegistered({ ...r, ttl: null })),
          ),
          log,
        },
      );
      await this.registry.start(this.dns);
      log(`DNS on ${config.dnsListen} for ${config.domain} and storm.local`);
    }
    if (config.dhcpInterface) {
      const dnsHost = config.dnsListen ? parseHostPort(config.dnsListen, 'dns-listen').host : '';
      this.dhcp = new DhcpServer(
        {
          interface: config.dhcpInterface,
          serverIp: net.managerAddress,
          subnet: net.cidrText,
          ...(net.router ? { router: net.router } : {}),
          // Guests resolve through STORM's DNS, which answers on the manager's address.
          dnsServers: dnsHost && dnsHost !== '0.0.0.0' ? [dnsHost] : [net.managerAddress],
          domain: config.domain,
          leaseTime: config.dhcpLeaseSeconds,
          ...(net.pool ? { pool: net.pool } : {}),
        },
        { reservations: new DbReservations(db), leases: new SqliteLeaseStore(db), log },
      );
      await this.registry.start(this.dhcp);
      log(`DHCP on ${config.dhcpInterface} for ${net.cidrText}`);
    }
  }

  /** The instance with `mac` is gone: its lease goes too (records go with its row). */
  async forget(mac: string): Promise<void> {
    if (this.dhcp) await this.dhcp.forget(mac);
    else await this.opts.db.run('DELETE FROM dhcp_leases WHERE mac = ?', [mac.toLowerCase()]);
    this.opts.records.changed();
  }

  stats(): Record<string, unknown> {
    return {
      ...(this.dns ? { dns: this.dns.stats() } : {}),
      ...(this.dhcp ? { dhcp: this.dhcp.stats() } : {}),
      ...(this.ldap ? { ldap: this.ldap.stats() } : {}),
    };
  }

  async close(): Promise<void> {
    await this.registry.close();
  }
}
