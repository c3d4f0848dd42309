/**
 * `storm console NAME --attach`: the terminal joined to an instance's serial port. Raw mode on
 * stdin (when it is a terminal), keystrokes to the guest while this session writes, the guest's
 * bytes to stdout as they are (the one place they are not escaped: this is the guest's own
 * terminal), notices on stderr. The escape key (Ctrl-], as virsh has it) detaches; the terminal's
 * mode is restored however the session ends.
 *
 * @example
 * const ws = await api.webSocket('/instances/web1/console/attach');
 * process.exitCode = await runSerialTerminal({ ws, name: 'web1', stdin: process.stdin, out: process.stdout, err: process.stderr });
 */
import type WebSocket from 'ws';
import type { RawData } from 'ws';
import { peerLabel, type SerialNotice, type SerialRole } from '../../common/serial-attach.js';
import { escapeTerminal } from '../../common/terminal-text.js';

/** Ctrl-] */
export const ESCAPE_BYTE = 0x1d;

export interface SerialTerminalIo {
  readonly ws: WebSocket;
  readonly name: string;
  readonly stdin: NodeJS.ReadStream;
  readonly out: NodeJS.WriteStream;
  readonly err: NodeJS.WriteStream;
}

/** Runs the session until detach (0) or until the port ends (1). */
export function runSerialTerminal(io: SerialTerminalIo): Promise<number> {
  const { ws, stdin, out, err } = io;
  // Raw mode has no output processing: every line we print ends with CR LF.
  const say = (text: string) => err.write(`\r\n[storm: ${escapeTerminal(text)}]\r\n`);
  let role: SerialRole = 'reader';
  let detached = false;
  let toldReadOnly = false;
  const raw = stdin.isTTY === true;
  const restore = () => {
    if (raw && stdin.isRaw) stdin.setRawMode(false);
  };
  process.once('exit', restore);
  const hangup = () => detach();
  process.once('SIGTERM', hangup);
  process.once('SIGHUP', hangup);
  if (raw) stdin.setRawMode(true);
  err.write(`Connected to ${io.name} (escape character is ^])\r\n`);

  function detach(): void {
    detached = true;
    ws.close(1000, 'detached');
  }

  const onInput = (chunk: Buffer) => {
    const esc = chunk.indexOf(ESCAPE_BYTE);
    const bytes = esc < 0 ? chunk : chunk.subarray(0, esc);
    if (bytes.length) {
      if (role === 'writer') ws.send(bytes, { binary: true });
      else if (!toldReadOnly) {
        toldReadOnly = true;
        say('read only: someone else writes; detach (^]) and attach with --takeover to write');
      }
    }
    if (esc >= 0) detach();
  };
  stdin.on('data', onInput);
  // Piped input that ends, or a terminal that went away, is a detach too.
  stdin.once('end', detach);
  stdin.once('error', detach);
  stdin.resume();

  ws.on('message', (data: RawData, isBinary: boolean) => {
    if (isBinary) out.write(Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer));
    else {
      const n = parseNotice(data);
      if (!n) return;
      if (n.type !== 'ended') role = n.role;
      const line = describe(n);
      if (line) say(line);
    }
  });

  return new Promise((resolve) => {
    ws.once('close', (code: number, reason: Buffer) => {
      stdin.off('data', onInput);
      stdin.off('end', detach);
      stdin.off('error', detach);
      stdin.pause();
      process.off('SIGTERM', hangup);
      process.off('SIGHUP', hangup);
      restore();
      process.off('exit', restore);
      if (detached) {
        err.write(`\r\n[storm: detached from ${io.name}; it keeps running]\r\n`);
        resolve(0);
      } else {
        say(`the serial port of ${io.name} closed (${code}${reason.length ? `: ${reason.toString('utf8')}` : ''})`);
        resolve(1);
      }
    });
  });
}

function parseNotice(data: RawData): SerialNotice | undefined {
  try {
    return JSON.parse((Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer)).toString('utf8')) as SerialNotice;
  } catch {
    return undefined;
  }
}

/** A notice as one line for the administrator. */
export function describe(n: SerialNotice): string | undefined {
  switch (n.type) {
    case 'attached':
      return n.role === 'writer'
        ? `attached as ${peerLabel(n.you)}; you write`
        : `attached read only: ${n.writer ? peerLabel(n.writer) : 'someone'} writes (--takeover to write)`;
    case 'writer':
      if (n.reason === 'left') return `${n.previous ? peerLabel(n.previous) : 'the writer'} left; nobody writes now`;
      if (n.role === 'writer') return n.previous ? `you took over from ${peerLabel(n.previous)}` : 'you write now';
      return n.reason === 'takeover' && n.previous && n.writer
        ? `${peerLabel(n.writer)} took over from ${peerLabel(n.previous)}; read only now`
        : `${n.writer ? peerLabel(n.writer) : 'someone'} writes now`;
    case 'ended':
      return undefined;
  }
}
