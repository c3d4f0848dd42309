/**
 * Authoritative answers for STORM's zones, built from the ZoneSource:
 * - `storm.local`: its A record is the manager;
 * - the instance zone (`storm.internal` by default): `<instance>` A from the reservations and the
 *   records appliances registered (MX, SRV, TXT, CNAME), with SOA and NS at the apex;
 * - the reverse names of the appliance networks: PTR from the reservations.
 * NXDOMAIN when a name does not exist, NODATA (NOERROR, no answers) when it exists without the
 * type asked; both carry the zone's SOA for negative caching (RFC 2308).
 *
 * @example
 * const auth = new Authority(resolveDnsConfig(cfg), zone);
 * auth.zoneOf('web1.storm.internal');                // 'storm.internal'
 * await auth.answer('web1.storm.internal', 'A');      // { rcode: 'NOERROR', answers: [A 10.77.0.10], authorities: [] }
 */
import type { Answer } from 'dns-packet';
import { addressOfReverseName, type Cidr, inCidr, intToIp, reverseName, tryIpToInt } from '../../network/ipv4.js';
import { MANAGER_NAME, type ResolvedDnsConfig } from './config.js';
import type { RegisteredRecord } from '../../network/registered-record.js';
import type { ZoneSource } from './zone-source.js';

export interface AuthAnswer {
  readonly rcode: 'NOERROR' | 'NXDOMAIN';
  readonly answers: readonly Answer[];
  readonly authorities: readonly Answer[];
}

/** CNAME chains inside our zones are followed this far, then left to the resolver. */
const MAX_CHASE = 8;

export class Authority {
  private readonly reverseZones: readonly { apex: string; cidr: Cidr }[];
  /** Bumped on every zone change so secondaries and caches can tell (RFC 1982 arithmetic is not needed for a counter this slow). */
  private serial = Math.floor(Date.now() / 1000);

  constructor(
    private readonly cfg: ResolvedDnsConfig,
    private readonly zone: ZoneSource,
  ) {
    this.reverseZones = cfg.networks.map((cidr) => ({ apex: reverseApex(cidr), cidr }));
  }

  changed(): void {
    this.serial++;
  }

  /** The apex of the zone of ours that holds `name` (lower case), or undefined when it is not ours. */
  zoneOf(name: string): string | undefined {
    if (name === MANAGER_NAME || name.endsWith(`.${MANAGER_NAME}`)) return MANAGER_NAME;
    const d = this.cfg.domain;
    if (name === d || name.endsWith(`.${d}`)) return d;
    if (!name.endsWith('.in-addr.arpa')) return undefined;
    const address = addressOfReverseName(name);
    for (const { apex, cidr } of this.reverseZones) {
      if (address !== undefined) {
        if (inCidr(tryIpToInt(address)!, cidr)) return apex;
      } else if (cidr.prefix % 8 === 0 && (name === apex || name.endsWith(`.${apex}`))) {
        return apex;
      }
    }
    return undefined;
  }

  async answer(name: string, type: string, depth = 0): Promise<AuthAnswer> {
    const apex = this.zoneOf(name);
    if (apex === undefined) return { rcode: 'NXDOMAIN', answers: [], authorities: [] };
    if (apex === MANAGER_NAME) return this.managerZone(name, type);
    if (apex === this.cfg.domain) return this.instanceZone(name, type, depth);
    return this.reverseZone(apex, name, type);
  }

  private async managerZone(name: string, type: string): Promise<AuthAnswer> {
    if (name !== MANAGER_NAME) return this.negative(MANAGER_NAME, 'NXDOMAIN');
    const answers: Answer[] = [];
    if (type === 'A' || type === 'ANY') answers.push(this.rr(name, 'A', await this.zone.managerAddress()));
    answers.push(...this.apexRecords(name, type));
    return answers.length ? { rcode: 'NOERROR', answers, authorities: [] } : this.negative(MANAGER_NAME, 'NOERROR');
  }

  private async instanceZone(name: string, type: string, depth: number): Promise<AuthAnswer> {
    const d = this.cfg.domain;
    const label = name === d ? undefined : name.slice(0, -(d.length + 1));
    const [records, instance] = await Promise.all([
      this.zone.records(name),
      label !== undefined && !label.includes('.') ? this.zone.instanceByName(label) : undefined,
    ]);
    const cname = records.find((r) => r.type === 'CNAME');
    if (cname && type !== 'CNAME' && type !== 'ANY') return this.chase(cname, type, depth);
    const answers: Answer[] = [];
    if (instance && (type === 'A' || type === 'ANY')) answers.push(this.rr(name, 'A', instance.ip));
    for (const r of records) if (r.type === type || type === 'ANY') answers.push(this.registered(r));
    if (name === d) answers.push(...this.apexRecords(name, type));
    if (answers.length) return { rcode: 'NOERROR', answers, authorities: [] };
    const exists = instance !== undefined || records.length > 0 || name === d || (await this.zone.hasNamesBelow(name));
    return this.negative(d, exists ? 'NOERROR' : 'NXDOMAIN');
  }

  private async chase(cname: RegisteredRecord, type: string, depth: number): Promise<AuthAnswer> {
    const head = this.registered(cname);
    const target = String(cname.data).toLowerCase().replace(/\.$/, '');
    if (depth >= MAX_CHASE || this.zoneOf(target) === undefined) return { rcode: 'NOERROR', answers: [head], authorities: [] };
    const rest = await this.answer(target, type, depth + 1);
    return { rcode: rest.rcode, answers: [head, ...rest.answers], authorities: rest.authorities };
  }

  private async reverseZone(apex: string, name: string, type: string): Promise<AuthAnswer> {
    const address = addressOfReverseName(name);
    if (address === undefined) {
      // The apex or a name between it and full addresses: exists, no data of ours but SOA/NS.
      const answers = name === apex ? this.apexRecords(name, type) : [];
      return answers.length ? { rcode: 'NOERROR', answers, authorities: [] } : this.negative(apex, 'NOERROR');
    }
    const instance = await this.zone.instanceByAddress(address);
    const target = instance
      ? `${instance.name}.${this.cfg.domain}`
      : address === (await this.zone.managerAddress())
        ? MANAGER_NAME
        : undefined;
    if (target === undefined) return this.negative(apex, 'NXDOMAIN');
    if (type !== 'PTR' && type !== 'ANY') return this.negative(apex, 'NOERROR');
    return { rcode: 'NOERROR', answers: [this.rr(name, 'PTR', target)], authorities: [] };
  }

  private apexRecords(apex: string, type: string): Answer[] {
    const out: Answer[] = [];
    if (type === 'SOA' || type === 'ANY') out.push(this.soa(apex));
    if (type === 'NS' || type === 'ANY') out.push(this.rr(apex, 'NS', MANAGER_NAME));
    return out;
  }

  private negative(apex: string, rcode: 'NOERROR' | 'NXDOMAIN'): AuthAnswer {
    return { rcode, answers: [], authorities: [this.soa(apex)] };
  }

  private soa(apex: string): Answer {
    const ttl = this.cfg.ttl;
    return {
      name: apex,
      type: 'SOA',
      class: 'IN',
      ttl,
      data: {
        mname: MANAGER_NAME,
        rname: `hostmaster.${apex}`,
        serial: this.serial >>> 0,
        refresh: 3600,
        retry: 600,
        expire: 86400,
        minimum: ttl,
      },
    };
  }

  private rr(name: string, type: 'A' | 'PTR' | 'NS' | 'CNAME', data: string): Answer {
    return { name, type, class: 'IN', ttl: this.cfg.ttl, data };
  }

  private registered(r: RegisteredRecord): Answer {
    const base = { name: r.name, class: 'IN' as const, ttl: r.ttl ?? this.cfg.ttl };
    switch (r.type) {
      case 'MX':
        return { ...base, type: 'MX', data: { preference: r.data.preference, exchange: r.data.exchange } };
      case 'SRV':
        return { ...base, type: 'SRV', data: { ...r.data } };
      case 'TXT':
        return { ...base, type: 'TXT', data: [...r.data] };
      case 'CNAME':
        return { ...base, type: 'CNAME', data: r.data };
    }
  }
}

/** `0.77.10.in-addr.arpa` for 10.77.0.0/24; the octet-aligned zone that holds the network. */
function reverseApex(cidr: Cidr): string {
  const octets = Math.floor(cidr.prefix / 8);
  const full = reverseName(intToIp(cidr.network)).split('.');
  return full.slice(4 - octets).join('.');
}
