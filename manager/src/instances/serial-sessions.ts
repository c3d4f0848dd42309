/**
 * Administrators attached to instances' serial ports: one connection to the host per instance,
 * however many are watching, opened for the first and closed after the last. Everyone attached
 * gets what the guest prints; only the writer's keystrokes reach it. A newcomer writes when
 * nobody does; a takeover moves the seat and is announced to everyone (wire: `common/serial-attach.ts`).
 *
 * @example
 * const sessions = new SerialSessions({ open: (id) => hostClient.attachSerial(id) });
 * const h = await sessions.join('i-1', { principal: 'admin', via: 'console', send, notice, close }, { takeover: false });
 * h.input(Buffer.from('ls\r')); // reaches the guest only while h is the writer
 * h.leave();
 */
import type WebSocket from 'ws';
import type { RawData } from 'ws';
import { errorMessage } from '../../../common/errors.js';
import { type SerialNotice, type SerialPeer, type SerialRole, SERIAL_CLOSE_ENDED } from '../../../common/serial-attach.js';

/** One administrator's connection, as the sessions see it. */
export interface SerialViewer {
  readonly principal: string;
  readonly via: SerialPeer['via'];
  /** Guest output, raw. */
  send(bytes: Buffer): void;
  notice(n: SerialNotice): void;
  /** The port ended: close with this code and reason. */
  close(code: number, reason: string): void;
}

export interface SerialHandle {
  readonly peer: SerialPeer;
  input(bytes: Buffer): void;
  takeover(): void;
  leave(): void;
}

export interface SerialSessionsOptions {
  /** The host's serial WebSocket for instance `id` (`HostClient.attachSerial`). */
  open(id: string): Promise<WebSocket>;
}

interface Member {
  readonly peer: SerialPeer;
  readonly viewer: SerialViewer;
}

class Session {
  readonly members = new Set<Member>();
  writer: Member | null = null;
  ended = false;
  private clients = 0;

  constructor(
    readonly id: string,
    private readonly upstream: WebSocket,
    private readonly onEnd: () => void,
  ) {
    upstream.on('message', (data: RawData, isBinary: boolean) => {
      if (!isBinary) return;
      const bytes = toBuffer(data);
      for (const m of this.members) m.viewer.send(bytes);
    });
    upstream.on('close', (_code: number, reason: Buffer) => this.end(reason.toString('utf8') || 'the host closed the serial port'));
    upstream.on('error', (err) => this.end(`the connection to the host failed: ${errorMessage(err)}`));
  }

  add(viewer: SerialViewer, takeover: boolean): Member {
    const member = { peer: { principal: viewer.principal, via: viewer.via, client: ++this.clients }, viewer };
    this.members.add(member);
    const previous = this.writer;
    if (!previous || takeover) this.writer = member;
    viewer.notice({ type: 'attached', instance: this.id, you: member.peer, role: this.roleOf(member), writer: this.writer?.peer ?? null });
    if (this.writer === member) this.announce(previous, previous ? 'takeover' : 'joined', member, member);
    return member;
  }

  input(member: Member, bytes: Buffer): void {
    if (this.writer === member && !this.ended) this.upstream.send(bytes, { binary: true });
  }

  takeover(member: Member): void {
    if (this.writer === member || !this.members.has(member)) return;
    const previous = this.writer;
    this.writer = member;
    this.announce(previous, previous ? 'takeover' : 'joined', member);
  }

  leave(member: Member): void {
    if (!this.members.delete(member)) return;
    if (this.members.size === 0) return this.close('no one is attached');
    if (this.writer === member) {
      this.writer = null;
      this.announce(member, 'left', null);
    }
  }

  /** The port is gone: tell everyone and close them. */
  end(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.onEnd();
    for (const m of this.members) {
      m.viewer.notice({ type: 'ended', reason });
      m.viewer.close(SERIAL_CLOSE_ENDED, reason);
    }
    this.members.clear();
    this.upstream.close();
  }

  private close(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.onEnd();
    this.upstream.close(1000, reason);
  }

  private roleOf(m: Member): SerialRole {
    return this.writer === m ? 'writer' : 'reader';
  }

  private announce(previous: Member | null, reason: 'takeover' | 'left' | 'joined', writer: Member | null, except?: Member): void {
    for (const m of this.members) {
      if (m === except) continue;
      m.viewer.notice({ type: 'writer', role: this.roleOf(m), writer: writer?.peer ?? null, previous: previous?.peer ?? null, reason });
    }
  }
}

export class SerialSessions {
  private readonly sessions = new Map<string, Promise<Session>>();

  constructor(private readonly opts: SerialSessionsOptions) {}

  /** Attaches `viewer` to instance `id`'s serial port; `takeover` makes it the writer at once. */
  async join(id: string, viewer: SerialViewer, opts: { takeover: boolean }): Promise<SerialHandle> {
    let pending = this.sessions.get(id);
    if (!pending) {
      const opening: Promise<Session> = this.opts.open(id).then(
        (ws) =>
          new Session(id, ws, () => {
            if (this.sessions.get(id) === opening) this.sessions.delete(id);
          }),
      );
      pending = opening;
      this.sessions.set(id, opening);
      opening.catch(() => this.sessions.delete(id));
    }
    const session = await pending;
    // Ended sessions leave the map at once; this one ended while we waited for it to open.
    if (session.ended) throw new Error(`the serial port of ${id} closed while attaching; attach again`);
    const member = session.add(viewer, opts.takeover);
    return {
      peer: member.peer,
      input: (bytes) => session.input(member, bytes),
      takeover: () => session.takeover(member),
      leave: () => session.leave(member),
    };
  }

  /** Ends every session (the manager stops). */
  async closeAll(reason: string): Promise<void> {
    for (const s of await Promise.allSettled([...this.sessions.values()])) if (s.status === 'fulfilled') s.value.end(reason);
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}
