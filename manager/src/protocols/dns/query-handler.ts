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
import { intToIp } from '../../network/ipv4.js';
import { AnswerCache } from './answer-cache.js';
import type { Authority } from './authority.js';
import type { ResolvedDnsConfig } from './config.js';
import type { Forwarder } from './forwarder.js';
import { buildResponse, EMPTY, encodeRecords, headerOnly, isTruncated, Rcode, type RcodeName, type Section } from './response.js';
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
    queries: 0,
    dropped: 0,
    truncated: 0,
    cacheHits: 0,
    cacheMisses: 0,
    internalErrors: 0,
    rcodes: { NOERROR: 0, FORMERR: 0, SERVFAIL: 0, NXDOMAIN: 0, NOTIMP: 0, REFUSED: 0, BADVERS: 0 },
  };
  private readonly cache: AnswerCache<Built>;
  private readonly building = new Map<string, Promise<Built>>();
  private readonly recursion = new BlockList();
  private readonly rcodeNames: (RcodeName | undefined)[] = [];

  constructor(
    cfg: ResolvedDnsConfig,
    private readonly authority: Authority,
    private readonly forwarder: Forwarder | undefined,
    now: () => number,
    private readonly log: (message: string) => void = () => undefined,
  ) {
    this.cache = new AnswerCache(cfg.cacheTtlMs, cfg.cacheEntries, now);
    for (const [k, v] of Object.entries(Rcode)) this.rcodeNames[v] = k as RcodeName;
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
    if (q.edns && q.edns.version > 0) return this.plain(raw, q, Rcode.BADVERS, ra, limit);
    if (!q.plainName || (q.question.klass !== CLASS_IN && q.question.klass !== CLASS_ANY))
      return this.plain(raw, q, Rcode.REFUSED, ra, limit);
    const { name, type } = q.question;
    if (this.authority.zoneOf(name) !== undefined) {
      if (type === 251 || type === 252) return this.plain(raw, q, Rcode.REFUSED, ra, limit); // no zone transfers
      const key = `${type} ${name}`;
      const hit = this.cache.get(key);
      if (hit) {
        this.counters.cacheHits++;
        return this.finish(raw, q, hit, ra, limit);
      }
      this.counters.cacheMisses++;
      return this.build(key, name, type).then(
        (built) => this.finish(raw, q, built, ra, limit),
        (err: unknown) => this.failed(err, raw, q, ra, limit),
      );
    }
    if (!ra || !this.forwarder) return this.plain(raw, q, Rcode.REFUSED, ra, limit);
    return this.forwarder.forward(raw, q.question).then((reply) => this.relay(reply, raw, q, client, limit));
  }

  private relay(reply: Buffer | undefined, raw: Buffer, q: ParsedQuery, client: Client, limit: number): Reply {
    if (!reply) return this.plain(raw, q, Rcode.SERVFAIL, true, limit);
    // Too big for this client's UDP limit: answer with TC (no records) so it retries over TCP.
    if (!client.tcp && reply.length > limit) return this.plain(raw, q, reply[3]! & 0xf, true, 0);
    return this.count(reply[3]! & 0xf, reply);
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

  private failed(err: unknown, raw: Buffer, q: ParsedQuery, ra: boolean, limit: number): Reply {
    this.counters.internalErrors++;
    this.log(`dns: zone lookup failed: ${errorMessage(err)}`);
    return this.plain(raw, q, Rcode.SERVFAIL, ra, limit);
  }

  /** An answer without records (REFUSED, SERVFAIL, BADVERS…); a limit of 0 forces TC. */
  private plain(raw: Buffer, q: ParsedQuery, rcode: number, ra: boolean, limit: number): Reply {
    return this.finish(raw, q, { rcode, answers: EMPTY, authorities: EMPTY }, ra, limit, false);
  }

  private finish(raw: Buffer, q: ParsedQuery, built: Built, ra: boolean, limit: number, aa = true): Reply {
    const bytes = buildResponse(raw, q, built.rcode, aa, ra, built.answers, built.authorities, limit);
    if (isTruncated(bytes)) this.counters.truncated++;
    return this.count(built.rcode, bytes);
  }

  private count(rcode: number, bytes: Buffer): Buffer {
    const name = this.rcodeNames[rcode];
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
