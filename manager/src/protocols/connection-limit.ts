/**
 * Caps a listener's open connections, in all and per source address, so one client (a guest, a
 * script on a host) can never hold every slot. Counts a socket from `admit` until it closes.
 *
 * @example
 * const limit = new ConnectionLimit({ total: 256, perSource: 32 });
 * server.on('connection', (socket) => { if (!limit.admit(socket)) socket.destroy(); });
 * limit.open('10.77.0.5'); // 1
 */
import type { Socket } from 'node:net';

export interface ConnectionLimits {
  /** Open connections at most. */
  readonly total: number;
  /** Open connections from one address at most. */
  readonly perSource: number;
}

export class ConnectionLimit {
  private readonly bySource = new Map<string, number>();
  private count = 0;
  /** Refused so far: over the total or over a source's share. */
  rejected = 0;

  constructor(private readonly limits: ConnectionLimits) {}

  /** Counts `socket` until it closes, or answers false (the caller closes it) when a cap is reached. */
  admit(socket: Socket): boolean {
    // IPv4-mapped IPv6 is the same peer as its IPv4 form.
    const source = (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    const mine = this.bySource.get(source) ?? 0;
    if (this.count >= this.limits.total || mine >= this.limits.perSource) {
      this.rejected++;
      return false;
    }
    this.count++;
    this.bySource.set(source, mine + 1);
    socket.once('close', () => {
      this.count--;
      const left = (this.bySource.get(source) ?? 1) - 1;
      if (left > 0) this.bySource.set(source, left);
      else this.bySource.delete(source);
    });
    return true;
  }

  /** Connections open now, from `source` or in all. */
  open(source?: string): number {
    return source === undefined ? this.count : (this.bySource.get(source) ?? 0);
  }
}
