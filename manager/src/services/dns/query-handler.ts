/**
 * Turns one query's bytes into the response's bytes, transport-free: parse, then answer from our
 * zones (through the answer cache), forward to the upstream, or refuse. Returns synchronously
 * whenever the answer is cached, so a hot name costs no promise; otherwise a promise.
 *
 * @example
 * const handler = new QueryHandler(cfg, authority, forwarder, Date.now);
 * const out = handler.respond(datagram, { address: '10.77.0.10', tcp: false });
 * const bytes = out instanceof Promise ? await out : out; // undefined: drop silently
 */
import { BlockList } from 'node:net';
import { errorMessage } from '../../../../common/errors.js';
import { intToIp } from '../dhcp/ipv4.js';
import { AnswerCache } from './answer-cache.js';
import type { Authority } from './authority.js';
import type { ResolvedDnsConfig } from './config.js';
import type { Forwarder } from './forwarder.js';
import { buildResponse, encodeRecords, headerOnly, Rcode, type RcodeName, type Section } from './response.js';
import { CLASS_ANY, CLASS_IN, typeName } from './types.js';
import { type ParsedQuery, parseQuery } from './wire.js';

export interface Client {
  readonly address: string;
  readonly tcp: boolean;
}

interface Built {
  readonly rcode: number;
  readonly answers: Section;
  readonly authorities: Section;
}

export interface QueryCounters {
  queries: number;
  dropped: number;
  truncated: number;
  cacheHits: number;
  cacheMisses: number;
  internalErrors: number;
  rcodes: Record<RcodeName, number>;
}

type Reply = Buffer | undefined;

export class QueryHandler {
  readonly counters: QueryCounters = {
    queries: 0, dropped: 0, truncated: 0, cacheHits: 0, cacheMisses: 0, internalErrors: 0,
    rcodes: { NOERROR: 0, FORMERR: 0, SERVFAIL: 0, NXDOMAIN: 0, NOTIMP: 0, REFUSED: 0, BADVERS: 0 },
  };
  private readonly cache: AnswerCache<Built>;
  private readonly building = new Map<string, Promise<Built>>();
  private readonly recursion = new BlockList();
  private readonly rcodeNames = new Map<number, RcodeName>(Object.entries(Rcode).map(([k, v]) => [v, k as RcodeName]));

  constructor(
    private readonly cfg: ResolvedDnsConfig,
    private readonly authority: Authority,
    private readonly forwarder: Forwarder | undefined,
    now: () => number,
    private readonly log: (message: string) => void = () => undefined,
  ) {
    this.cache = new AnswerCache(cfg.cacheTtlMs, cfg.cacheEntries, now);
    for (const c of cfg.recursionNetworks) this.recursion.addSubnet(intToIp(c.network), c.prefix, 'ipv4');
  }

  /** Drops every cached answer (the zone changed). */
  invalidate(): void {
    this.cache.clear();
  }

  respond(raw: Buffer, client: Client): Reply | Promise<Reply> {
    this.counters.queries++;
    const parsed = parseQuery(raw);
    if (parsed.kind === 'drop') {
      this.counters.dropped++;
      return undefined;
    }
    if (parsed.kind !== 'query') {
      const rcode = parsed.kind === 'formerr' ? Rcode.FORMERR : Rcode.NOTIMP;
      return this.count(rcode, headerOnly(parsed.id, parsed.opcode, parsed.rd, rcode));
    }
    const q = parsed.query;
    const limit = client.tcp ? 65535 : q.edns ? Math.min(4096, Math.max(512, q.edns.udpSize)) : 512;
    const ra = this.forwarder !== undefined && this.mayRecurse(client.address);
    const simple = (rcode: number) => this.finish(raw, q, { rcode, aa: false, ra, limit });
    if (q.edns && q.edns.version > 0) return simple(Rcode.BADVERS);
    if (!q.plainName || (q.question.klass !== CLASS_IN && q.question.klass !== CLASS_ANY)) return simple(Rcode.REFUSED);
    const { name, type } = q.question;
    if (this.authority.zoneOf(name) !== undefined) {
      if (type === 251 || type === 252) return simple(Rcode.REFUSED); // no zone transfers
      const key = `${type} ${name}`;
      const hit = this.cache.get(key);
      if (hit) {
        this.counters.cacheHits++;
        return this.finish(raw, q, { ...hit, aa: true, ra, limit });
      }
      this.counters.cacheMisses++;
      return this.build(key, name, type).then(
        (built) => this.finish(raw, q, { ...built, aa: true, ra, limit }),
        (err: unknown) => this.failed(err, simple),
      );
    }
    if (!ra || !this.forwarder) return simple(Rcode.REFUSED);
    return this.forwarder.forward(raw, q.question).then((reply) => {
      if (!reply) return simple(Rcode.SERVFAIL);
      // Too big for this client's UDP limit: a limit of 0 makes finish() send TC, so it retries over TCP.
      if (!client.tcp && reply.length > limit) return this.finish(raw, q, { rcode: reply[3]! & 0xf, aa: false, ra, limit: 0 });
      return this.count(reply[3]! & 0xf, reply);
    });
  }

  private build(key: string, name: string, type: number): Promise<Built> {
    const pending = this.building.get(key);
    if (pending) return pending;
    const work = this.authority.answer(name, typeName(type)).then((a) => {
      const built: Built = { rcode: Rcode[a.rcode], answers: encodeRecords(a.answers), authorities: encodeRecords(a.authorities) };
      this.cache.set(key, built);
      return built;
    });
    this.building.set(key, work);
    const done = () => this.building.delete(key);
    work.then(done, done);
    return work;
  }

  private failed(err: unknown, simple: (rcode: number) => Reply): Reply {
    this.counters.internalErrors++;
    this.log(`dns: zone lookup failed: ${errorMessage(err)}`);
    return simple(Rcode.SERVFAIL);
  }

  private finish(raw: Buffer, q: ParsedQuery, parts: Parameters<typeof buildResponse>[2]): Reply {
    const { bytes, truncated } = buildResponse(raw, q, parts);
    if (truncated) this.counters.truncated++;
    return this.count(parts.rcode, bytes);
  }

  private count(rcode: number, bytes: Buffer): Buffer {
    const name = this.rcodeNames.get(rcode);
    if (name) this.counters.rcodes[name]++;
    return bytes;
  }

  private mayRecurse(address: string): boolean {
    const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
    try {
      return this.recursion.check(v4, 'ipv4');
    } catch {
      return false; // an IPv6 client: the appliance networks are IPv4
    }
  }
}
