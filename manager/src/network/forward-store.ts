/**
 * The administrator's forwards in sqlite (`network_forwards`): a port of the host and a protocol,
 * the instance it leads to and that instance's port. Read joined with the instance, so a forward
 * always names the instance's current name and reserved address.
 *
 * @example
 * await forwards.add({ protocol: 'tcp', port: 8080, instanceId: 'i-0123', targetPort: 80 });
 * (await forwards.list())[0]?.address; // '10.77.0.2'
 */
import type { Database } from '../db/database.js';
import type { ForwardProtocol } from './uplink-rules.js';

export interface ForwardRow {
  readonly protocol: ForwardProtocol;
  readonly port: number;
  readonly instanceId: string;
  readonly instanceName: string;
  /** The instance's reserved address now; null when it has none. */
  readonly address: string | null;
  readonly targetPort: number;
  readonly createdAt: string;
}

export interface NewForward {
  readonly protocol: ForwardProtocol;
  readonly port: number;
  readonly instanceId: string;
  readonly targetPort: number;
}

const SELECT = `SELECT f.protocol, f.port, f.instance_id AS instanceId, i.name AS instanceName, i.ip AS address, f.target_port AS targetPort, f.created_at AS createdAt
  FROM network_forwards f JOIN instances i ON i.id = f.instance_id`;

export class ForwardStore {
  constructor(private readonly db: Database) {}

  list(): Promise<ForwardRow[]> {
    return this.db.all<ForwardRow>(`${SELECT} ORDER BY f.protocol, f.port`);
  }

  get(protocol: ForwardProtocol, port: number): Promise<ForwardRow | undefined> {
    return this.db.get<ForwardRow>(`${SELECT} WHERE f.protocol = ? AND f.port = ?`, [protocol, port]);
  }

  byInstance(instanceId: string): Promise<ForwardRow[]> {
    return this.db.all<ForwardRow>(`${SELECT} WHERE f.instance_id = ? ORDER BY f.protocol, f.port`, [instanceId]);
  }

  /** False when that protocol and port is already forwarded. */
  async add(f: NewForward): Promise<boolean> {
    const r = await this.db.run(
      'INSERT INTO network_forwards (protocol, port, instance_id, target_port) VALUES (?, ?, ?, ?) ON CONFLICT (protocol, port) DO NOTHING',
      [f.protocol, f.port, f.instanceId, f.targetPort],
    );
    return r.changes === 1;
  }

  /** False when there was no such forward. */
  async remove(protocol: ForwardProtocol, port: number): Promise<boolean> {
    return (await this.db.run('DELETE FROM network_forwards WHERE protocol = ? AND port = ?', [protocol, port])).changes === 1;
  }

  async removeInstance(instanceId: string): Promise<void> {
    await this.db.run('DELETE FROM network_forwards WHERE instance_id = ?', [instanceId]);
  }

  /** An instance by id or name, with its reserved address. */
  instance(idOrName: string): Promise<{ id: string; name: string; ip: string | null } | undefined> {
    return this.db.get('SELECT id, name, ip FROM instances WHERE id = ? OR name = ?', [idOrName, idOrName]);
  }
}
