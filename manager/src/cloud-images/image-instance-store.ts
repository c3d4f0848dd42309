/**
 * What a traditional instance has besides its record: the firmware that boots it, its disk size and
 * the SSH public keys its cloud-init seed installs (kept so NoCloud-net serves the same seed). One
 * row per instance, gone with it. Also each administrator's own SSH public keys (an account setting).
 *
 * @example
 * await images.insert(tx, 'i-1', { firmware: 'bios', diskMiB: 2048, sshKeys: ['ssh-ed25519 AAAA… me'] });
 * (await images.get('i-1'))?.sshKeys;
 */
import type { Database, Queryable } from '../db/database.js';

export interface ImageInstance {
  readonly firmware: 'bios' | 'uefi';
  readonly diskMiB: number;
  readonly sshKeys: readonly string[];
}

interface Row {
  firmware: 'bios' | 'uefi';
  disk_mib: number;
  ssh_keys: string;
}

export class ImageInstanceStore {
  constructor(private readonly db: Database) {}

  async insert(tx: Queryable, instanceId: string, v: ImageInstance): Promise<void> {
    await tx.run('INSERT INTO image_instances (instance_id, firmware, disk_mib, ssh_keys) VALUES (?, ?, ?, ?)', [
      instanceId,
      v.firmware,
      v.diskMiB,
      JSON.stringify(v.sshKeys),
    ]);
  }

  async remove(instanceId: string): Promise<void> {
    await this.db.run('DELETE FROM image_instances WHERE instance_id = ?', [instanceId]);
  }

  async get(instanceId: string): Promise<ImageInstance | undefined> {
    const r = await this.db.get<Row>('SELECT firmware, disk_mib, ssh_keys FROM image_instances WHERE instance_id = ?', [instanceId]);
    return r && { firmware: r.firmware, diskMiB: r.disk_mib, sshKeys: JSON.parse(r.ssh_keys) as string[] };
  }

  /** The administrator's own SSH public keys (`principal`: the user or token name the API knows them by). */
  async accountKeys(principal: string): Promise<string[]> {
    const r = await this.db.get<{ keys: string }>('SELECT keys FROM account_ssh_keys WHERE principal = ?', [principal]);
    return r ? (JSON.parse(r.keys) as string[]) : [];
  }

  async setAccountKeys(principal: string, keys: readonly string[]): Promise<void> {
    await this.db.run(
      'INSERT INTO account_ssh_keys (principal, keys) VALUES (?, ?) ON CONFLICT(principal) DO UPDATE SET keys = excluded.keys',
      [principal, JSON.stringify(keys)],
    );
  }
}
