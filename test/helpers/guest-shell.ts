/**
 * Commands in a guest's serial root shell (tiny-os), through the manager's console WebSocket: one
 * session per instance while its guest runs (a reboot closes it; the next command opens another).
 *
 * @example
 * const shells = new GuestShells(manager); // { url, token, ca }
 * const { out, status } = await shells.run('web1', 'cat /proc/mounts');
 * shells.close();
 */
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';

interface Session {
  readonly ws: WebSocket;
  out: string;
  readonly notices: string[];
}

export class GuestShells {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly manager: { readonly url: string; readonly token: string; readonly ca: string }) {}

  /** Runs `command` in the guest's shell; its output and exit status. */
  async run(name: string, command: string, timeoutMs = 60_000): Promise<{ out: string; status: number }> {
    const s = await this.session(name);
    const from = s.out.length;
    const tag = randomBytes(4).toString('hex');
    s.ws.send(Buffer.from(`\r${command}; echo "END-${tag}-$?"\r`), { binary: true });
    // The echoed command line has `$?` there, never digits: only the marker's own line matches.
    const done = new RegExp(`END-${tag}-(\\d+)\\r\\n`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const out = s.out.slice(from);
      const m = done.exec(out);
      if (m) return { out: out.slice(0, m.index), status: Number(m[1]) };
      if (Date.now() > deadline)
        throw new Error(
          `the guest never finished ${JSON.stringify(command)}: ${JSON.stringify(out.slice(-1500))} ${JSON.stringify(s.notices)}`,
        );
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  close(): void {
    for (const s of this.sessions.values()) s.ws.close();
  }

  private async session(name: string): Promise<Session> {
    const open = this.sessions.get(name);
    if (open && open.ws.readyState === WebSocket.OPEN) return open;
    const url = `${this.manager.url.replace(/^https/, 'wss')}/api/v1/instances/${name}/console/attach?takeover=true`;
    const ws = new WebSocket(url, [], { headers: { authorization: `Bearer ${this.manager.token}` }, ca: this.manager.ca });
    const s: Session = { ws, out: '', notices: [] };
    ws.on('message', (data: Buffer, binary: boolean) => {
      if (binary) s.out += data.toString('utf8');
      else s.notices.push(data.toString('utf8'));
    });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    // Keystrokes count once the manager says this viewer is attached (as the writer: ?takeover=true).
    for (const deadline = Date.now() + 15_000; !s.notices.some((n) => n.includes('"attached"')); ) {
      if (Date.now() > deadline) throw new Error(`never attached to ${name}'s serial port: ${JSON.stringify(s.notices)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // The manager sends `attached` before it takes input from the new viewer: press Enter until the shell answers.
    for (let i = 0; s.out === ''; i++) {
      if (i === 30) throw new Error(`${name}'s shell never answered on its serial port`);
      ws.send(Buffer.from('\r'), { binary: true });
      await new Promise((r) => setTimeout(r, 500));
    }
    this.sessions.set(name, s);
    return s;
  }
}
