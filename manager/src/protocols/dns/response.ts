/**
 * Builds DNS responses from a parsed query: the header, the client's question echoed byte for
 * byte (so a 0x20-randomised name comes back as sent), pre-encoded record sections and an OPT
 * record when the client spoke EDNS. A UDP answer over the client's limit goes out with TC set
 * and no records, so the client retries over TCP (RFC 1035 §4.2.1, RFC 6891 §7).
 *
 * @example
 * const answers = encodeRecords([{ name: 'web1.storm.internal', type: 'A', class: 'IN', ttl: 60, data: '10.77.0.10' }]);
 * const bytes = buildResponse(raw, query, Rcode.NOERROR, true, false, answers, EMPTY, 512);
 */
import dnsPacket, { type Answer } from 'dns-packet';
import type { ParsedQuery } from './wire.js';
import { QR, TYPE_OPT } from './wire.js';

export const Rcode = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5, BADVERS: 16 } as const;
export type RcodeName = keyof typeof Rcode;

/** The UDP payload size we advertise: the DNS flag day 2020 value, safe from fragmentation. */
export const OUR_UDP_SIZE = 1232;
const AA = 0x0400;
const TC = 0x0200;
const RD = 0x0100;
const RA = 0x0080;

/** Resource records already in wire form (no name compression), with their count. */
export interface Section {
  readonly count: number;
  readonly bytes: Buffer;
}

export const EMPTY: Section = Object.freeze({ count: 0, bytes: Buffer.alloc(0) });

// dns-packet encodes single records through its `answer` codec, which its typings leave out.
const recordCodec = (dnsPacket as unknown as { answer: { encode(a: Answer): Buffer } }).answer;

export function encodeRecords(list: readonly Answer[]): Section {
  return list.length ? { count: list.length, bytes: Buffer.concat(list.map((a) => recordCodec.encode(a))) } : EMPTY;
}

function header(
  out: Buffer,
  id: number,
  opcode: number,
  rd: boolean,
  flags: number,
  rcode: number,
  qd: number,
  an: number,
  ns: number,
  ar: number,
): void {
  out.writeUInt16BE(id, 0);
  out.writeUInt16BE(QR | (opcode << 11) | flags | (rd ? RD : 0) | (rcode & 0xf), 2);
  out.writeUInt16BE(qd, 4);
  out.writeUInt16BE(an, 6);
  out.writeUInt16BE(ns, 8);
  out.writeUInt16BE(ar, 10);
}

function writeOpt(out: Buffer, at: number, rcode: number, dnssecOk: boolean): void {
  out[at] = 0;
  out.writeUInt16BE(TYPE_OPT, at + 1);
  out.writeUInt16BE(OUR_UDP_SIZE, at + 3);
  out[at + 5] = rcode >> 4;
  out[at + 6] = 0;
  out.writeUInt16BE(dnssecOk ? 0x8000 : 0, at + 7);
  out.writeUInt16BE(0, at + 9);
}

/**
 * The response to `q`: `rcode`, AA and RA flags, the record sections, within `limit` bytes (over it,
 * TC and no records). Positional arguments because this runs once per query.
 */
export function buildResponse(
  raw: Buffer,
  q: ParsedQuery,
  rcode: number,
  aa: boolean,
  ra: boolean,
  answers: Section,
  authorities: Section,
  limit: number,
): Buffer {
  const qLen = q.questionEnd - 12;
  const optLen = q.edns ? 11 : 0;
  const full = 12 + qLen + answers.bytes.length + authorities.bytes.length + optLen;
  const truncated = full > limit;
  const out = Buffer.allocUnsafe(truncated ? 12 + qLen + optLen : full);
  const flags = (aa ? AA : 0) | (ra ? RA : 0) | (truncated ? TC : 0);
  header(out, q.id, q.opcode, q.rd, flags, rcode, 1, truncated ? 0 : answers.count, truncated ? 0 : authorities.count, q.edns ? 1 : 0);
  raw.copy(out, 12, 12, q.questionEnd);
  let at = 12 + qLen;
  if (!truncated) {
    answers.bytes.copy(out, at);
    at += answers.bytes.length;
    authorities.bytes.copy(out, at);
    at += authorities.bytes.length;
  }
  if (q.edns) writeOpt(out, at, rcode, q.edns.dnssecOk);
  return out;
}

/** True when a response built here carries the TC bit. */
export function isTruncated(response: Buffer): boolean {
  return (response[2]! & (TC >> 8)) !== 0;
}

/** A header-only answer (FORMERR, NOTIMP) for a query whose question we could not or will not read. */
export function headerOnly(id: number, opcode: number, rd: boolean, rcode: number): Buffer {
  const out = Buffer.alloc(12);
  header(out, id, opcode, rd, 0, rcode, 0, 0, 0, 0);
  return out;
}
