/**
 * What an appliance may ask of the manager over XML-RPC, as a fixed table of three methods:
 * `storm.getConfig()`, `storm.registerRecord(type, name, value)`, `storm.reportStatus(phase, details)`.
 * A caller is its instance's token (written into its instance layer at launch) AND the address its
 * lease gave it: one instance can never read or change another's data.
 *
 * @example
 * const inst = await guests.authenticate(token, request.ip);
 * await guests.call(inst, 'storm.getConfig', []);
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Database } from '../../db/database.js';
import type { EventBus } from '../../events/bus.js';
import type { InstanceRow } from '../../instances/instance-store.js';
import { checkInstanceScope, parseRecord } from '../../network/dns-records.js';
import type { NetworkSettings } from '../../network/network-settings.js';
import type { RecordStore } from '../../network/record-store.js';
import { renderTemplate, type TemplateContext } from '../../network/templates.js';
import type { XmlRpcValue } from './codec.js';

export const FAULT = { parse: 1, unknownMethod: 2, badParams: 3, unauthenticated: 4, forbidden: 5, internal: 6 } as const;

export class GuestFault extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** What the guest is configured from, snapshotted into the instance at launch. */
export interface GuestSpec {
  readonly config: readonly { key: string; value: string; description?: string }[];
  readonly records: readonly { type: string; name: string; value: string; ttl?: number; priority?: number; weight?: number; port?: number }[];
}

export interface GuestApiOptions {
  readonly db: Database;
  readonly records: RecordStore;
  readonly bus: EventBus;
  readonly net: NetworkSettings | null;
  readonly domain: string;
  readonly guestUrl: () => string;
  /** Directory details for the guest (URL, base DN, its bind DN and password), when LDAP runs. */
  readonly directory?: (inst: InstanceRow) => Promise<Record<string, XmlRpcValue> | null>;
}

export const tokenHash = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');
const PHASES = new Set(['starting', 'applying', 'applied', 'failed']);

export class GuestApi {
  constructor(private readonly opts: GuestApiOptions) {}

  /** The instance holding `token`, when the request also comes from its reserved address. */
  async authenticate(token: string | undefined, sourceIp: string): Promise<InstanceRow> {
    if (!token || token.length > 200) throw new GuestFault(FAULT.unauthenticated, 'an instance token is required (Authorization: Bearer TOKEN)');
    const digest = tokenHash(token);
    const row = await this.opts.db.get<InstanceRow>('SELECT * FROM instances WHERE token_hash = ?', [digest]);
    if (!row?.token_hash || !timingSafeEqual(Buffer.from(row.token_hash, 'hex'), Buffer.from(digest, 'hex'))) throw new GuestFault(FAULT.unauthenticated, 'unknown instance token');
    const source = sourceIp.replace(/^::ffff:/, '');
    // With an appliance network, the token alone is not enough: it must come from the instance's lease.
    if (this.opts.net && row.ip !== source) throw new GuestFault(FAULT.forbidden, `this token belongs to an instance at another address than ${source}`);
    return row;
  }

  async call(inst: InstanceRow, method: string, params: readonly XmlRpcValue[]): Promise<XmlRpcValue> {
    switch (method) {
      case 'storm.getConfig':
        return this.getConfig(inst);
      case 'storm.registerRecord': {
        const [type, name, value] = params;
        if (params.length !== 3 || typeof type !== 'string' || typeof name !== 'string' || typeof value !== 'string') throw new GuestFault(FAULT.badParams, 'storm.registerRecord(type, name, value): three strings');
        return this.registerRecord(inst, type, name, value);
      }
      case 'storm.reportStatus': {
        const [phase, details] = params;
        if (typeof phase !== 'string' || !PHASES.has(phase) || params.length > 2) throw new GuestFault(FAULT.badParams, `storm.reportStatus(phase, details): phase one of ${[...PHASES].join(', ')}`);
        return this.reportStatus(inst, phase, details ?? '');
      }
      default:
        throw new GuestFault(FAULT.unknownMethod, `no such method: ${method.slice(0, 100)}`);
    }
  }

  private context(inst: InstanceRow): TemplateContext {
    return {
      params: JSON.parse(inst.params) as Record<string, unknown>,
      instance: { name: inst.name, fqdn: `${inst.name}.${this.opts.domain}`, domain: this.opts.domain, ip: inst.ip ?? '', mac: inst.mac },
    };
  }

  async getConfig(inst: InstanceRow): Promise<XmlRpcValue> {
    const ctx = this.context(inst);
    const spec = JSON.parse((inst as InstanceRow & { guest_spec?: string }).guest_spec ?? '{"config":[],"records":[]}') as GuestSpec;
    const config: Record<string, XmlRpcValue> = {};
    for (const item of spec.config) config[item.key] = renderTemplate(item.value, ctx);
    const records = spec.records.map((r) => ({ type: r.type, name: r.name, value: recordValue(r, ctx) }));
    const services: Record<string, XmlRpcValue> = { domain: this.opts.domain, xmlrpc: this.opts.guestUrl() };
    if (this.opts.net) services['dns'] = this.opts.net.managerAddress;
    const directory = await this.opts.directory?.(inst);
    if (directory) services['ldap'] = directory;
    return {
      instance: { id: inst.id, name: inst.name, fqdn: ctx.instance.fqdn, ip: inst.ip ?? '', mac: inst.mac },
      appliance: { name: inst.appliance, version: inst.version },
      parameters: ctx.params as Record<string, XmlRpcValue>,
      config,
      records,
      services,
    };
  }

  async registerRecord(inst: InstanceRow, type: string, name: string, value: string): Promise<XmlRpcValue> {
    const fqdn = `${inst.name}.${this.opts.domain}`;
    let parsed;
    try {
      parsed = parseRecord(type, name, value, fqdn, this.opts.domain);
      checkInstanceScope(parsed, fqdn);
    } catch (err) {
      throw new GuestFault(FAULT.forbidden, err instanceof Error ? err.message : String(err));
    }
    const row = await this.opts.records.add(parsed, inst.id);
    this.opts.bus.publish('dns.registered', { instance: inst.id, name: inst.name, type: row.type, record: row.name, value: row.value });
    return { id: row.id, type: row.type, name: row.name, value: row.value };
  }

  async reportStatus(inst: InstanceRow, phase: string, details: XmlRpcValue): Promise<XmlRpcValue> {
    const status = { phase, details: typeof details === 'string' ? details.slice(0, 4000) : details, at: new Date().toISOString() };
    const json = JSON.stringify(status);
    if (json.length > 16_384) throw new GuestFault(FAULT.badParams, 'status details too large');
    await this.opts.db.run("UPDATE instances SET guest_status = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?", [json, inst.id]);
    this.opts.bus.publish('instance.guest-status', { id: inst.id, name: inst.name, phase, details: status.details as unknown as string });
    return true;
  }
}

/** A declared record's value in the text form `registerRecord` takes. */
function recordValue(r: GuestSpec['records'][number], ctx: TemplateContext): string {
  const v = renderTemplate(r.value, ctx);
  if (r.type === 'MX') return `${r.priority ?? 10} ${v}`;
  if (r.type === 'SRV') return `${r.priority ?? 0} ${r.weight ?? 0} ${r.port ?? 0} ${v}`;
  return v;
}
