/**
 * What an appliance may ask of the manager: its configuration, a DNS record under its own name,
 * its status, and its own Kerberos keys when the manager runs a realm. A caller is its instance's token (written into its instance layer at launch) AND
 * the address its lease gave it: one instance can never read or change another's data. The
 * XML-RPC plugin (`protocols/xmlrpc/`) maps its fixed method table onto these.
 *
 * @example
 * const inst = await guests.authenticate(token, request.ip);
 * await guests.getConfig(inst);
 */
import { timingSafeEqual } from 'node:crypto';
import type { EventBus } from '../events/bus.js';
import type { InstanceRow, InstanceStore } from '../instances/instance-store.js';
import { checkInstanceScope, parseRecord } from '../network/dns-records.js';
import type { NetworkSettings } from '../network/network-settings.js';
import type { RecordQuota, RecordStore } from '../network/record-store.js';
import { MgrErr } from '../errors.js';
import { FAULT, GuestFault } from './guest-fault.js';
import type { GuestSpec } from './guest-spec.js';
import { tokenHash } from './guest-token.js';
import { renderTemplate, type TemplateContext } from './templates.js';

/** What the guest API exchanges with a guest: the values XML-RPC carries. */
export type GuestValue = string | number | boolean | Buffer | GuestValue[] | { [key: string]: GuestValue };

export interface GuestApiOptions {
  readonly store: InstanceStore;
  readonly records: RecordStore;
  readonly bus: EventBus;
  readonly net: NetworkSettings | null;
  readonly domain: string;
  readonly guestUrl: () => string;
  /** Directory details for the guest (URL, base DN, its bind DN and password), when LDAP runs. */
  readonly directory?: (inst: InstanceRow) => Promise<Record<string, GuestValue> | null>;
  /** The Kerberos realm, when the manager runs a KDC: what a guest's krb5.conf needs, and its keytab. */
  readonly kerberos?: {
    info(): { realm: string; kdc: string };
    keytab(name: string, services: readonly string[]): Promise<{ realm: string; principals: readonly string[]; keytab: Buffer }>;
  };
}

/** What one instance may register in all: enough for its mail, services and checks, never a zone's worth. */
export const RECORD_QUOTA: RecordQuota = Object.freeze({ records: 64, bytes: 16 * 1024 });

export const GUEST_PHASES: ReadonlySet<string> = new Set(['starting', 'applying', 'applied', 'failed']);

export class GuestApi {
  constructor(private readonly opts: GuestApiOptions) {}

  /** The instance holding `token`, when the request also comes from its reserved address. */
  async authenticate(token: string | undefined, sourceIp: string): Promise<InstanceRow> {
    if (!token || token.length > 200)
      throw new GuestFault(FAULT.unauthenticated, 'an instance token is required (Authorization: Bearer TOKEN)');
    const digest = tokenHash(token);
    const row = await this.opts.store.byTokenHash(digest);
    if (!row?.token_hash || !timingSafeEqual(Buffer.from(row.token_hash, 'hex'), Buffer.from(digest, 'hex')))
      throw new GuestFault(FAULT.unauthenticated, 'unknown instance token');
    const source = sourceIp.replace(/^::ffff:/, '');
    // With an appliance network, the token alone is not enough: it must come from the instance's lease.
    if (this.opts.net && row.ip !== source)
      throw new GuestFault(FAULT.forbidden, `this token belongs to an instance at another address than ${source}`);
    return row;
  }

  private context(inst: InstanceRow): TemplateContext {
    return {
      params: JSON.parse(inst.params) as Record<string, unknown>,
      instance: { name: inst.name, fqdn: `${inst.name}.${this.opts.domain}`, domain: this.opts.domain, ip: inst.ip ?? '', mac: inst.mac },
    };
  }

  async getConfig(inst: InstanceRow): Promise<GuestValue> {
    const ctx = this.context(inst);
    const spec = JSON.parse((inst as InstanceRow & { guest_spec?: string }).guest_spec ?? '{"config":[],"records":[]}') as GuestSpec;
    const config: Record<string, GuestValue> = {};
    for (const item of spec.config) config[item.key] = renderTemplate(item.value, ctx);
    const records = spec.records.map((r) => ({ type: r.type, name: r.name, value: recordValue(r, ctx) }));
    const services: Record<string, GuestValue> = { domain: this.opts.domain, xmlrpc: this.opts.guestUrl() };
    if (this.opts.net) services['dns'] = this.opts.net.managerAddress;
    const directory = await this.opts.directory?.(inst);
    if (directory) services['ldap'] = directory;
    if (this.opts.kerberos) services['kerberos'] = this.opts.kerberos.info();
    return {
      instance: { id: inst.id, name: inst.name, fqdn: ctx.instance.fqdn, ip: inst.ip ?? '', mac: inst.mac },
      appliance: { name: inst.appliance, version: inst.version },
      parameters: ctx.params as Record<string, GuestValue>,
      config,
      records,
      services,
      ...(spec.dataVolume ? { dataVolume: { serial: spec.dataVolume.serial, mountPoint: spec.dataVolume.mountPoint } } : {}),
    };
  }

  /**
   * The caller's own keys: host/<fqdn> and its declared services, as a keytab file's bytes. Naming any
   * instance but the caller (by name, FQDN or principal) is a fault: a token reaches only its own keys.
   */
  async getKeytab(inst: InstanceRow, whose?: string): Promise<GuestValue> {
    const fqdn = `${inst.name}.${this.opts.domain}`;
    if (whose !== undefined && whose !== inst.name && whose !== fqdn && !whose.endsWith(`/${fqdn}`) && !whose.includes(`/${fqdn}@`)) {
      throw new GuestFault(FAULT.forbidden, `an instance may fetch only its own keytab (${inst.name}), not ${whose.slice(0, 100)}`);
    }
    if (!this.opts.kerberos) throw new GuestFault(FAULT.unavailable, 'the manager runs no Kerberos KDC (--kdc-listen)');
    const spec = JSON.parse((inst as InstanceRow & { guest_spec?: string }).guest_spec ?? '{"config":[],"records":[]}') as GuestSpec;
    const issued = await this.opts.kerberos.keytab(inst.name, spec.principals ?? []);
    this.opts.bus.publish('kerberos.keytab', { id: inst.id, name: inst.name, principals: [...issued.principals] });
    return { realm: issued.realm, principals: [...issued.principals], keytab: issued.keytab };
  }

  async registerRecord(inst: InstanceRow, type: string, name: string, value: string): Promise<GuestValue> {
    const fqdn = `${inst.name}.${this.opts.domain}`;
    let parsed;
    try {
      parsed = parseRecord(type, name, value, fqdn, this.opts.domain);
      checkInstanceScope(parsed, fqdn);
    } catch (err) {
      throw new GuestFault(FAULT.forbidden, err instanceof Error ? err.message : String(err));
    }
    let row;
    try {
      row = await this.opts.records.add(parsed, inst.id, null, RECORD_QUOTA);
    } catch (err) {
      if (MgrErr.MGR_ERR_RECORD_QUOTA.is(err)) throw new GuestFault(FAULT.quota, err.message);
      if (MgrErr.MGR_ERR_CONFLICT.is(err)) throw new GuestFault(FAULT.forbidden, err.message);
      throw err;
    }
    this.opts.bus.publish('dns.registered', { instance: inst.id, name: inst.name, type: row.type, record: row.name, value: row.value });
    return { id: row.id, type: row.type, name: row.name, value: row.value };
  }

  async reportStatus(inst: InstanceRow, phase: string, details: GuestValue): Promise<GuestValue> {
    const status = { phase, details: typeof details === 'string' ? details.slice(0, 4000) : details, at: new Date().toISOString() };
    const json = JSON.stringify(status);
    if (json.length > 16_384) throw new GuestFault(FAULT.badParams, 'status details too large');
    await this.opts.store.setGuestStatus(inst.id, json);
    this.opts.bus.publish('instance.guest-status', { id: inst.id, name: inst.name, phase, details: status.details });
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
