/**
 * The interactive side of an instance's serial port: libvirt gives port 0 a pty (`domain-xml.ts`)
 * and names it in the running domain's XML; stormd opens it once per instance, however many
 * attachments there are, and hands what the guest prints to each of them. libvirt's `<log>`
 * writes the same bytes to `console.log` whether anyone is attached or not.
 *
 * @example
 * const ports = new SerialPorts();
 * const a = await ports.attach('i1', '/dev/pts/3', { data: (b) => ws.send(b), closed: (why) => ws.close(4000, why) });
 * a.write(Buffer.from('uname -a\r'));
 * a.detach(); // the last one out closes the pty
 */
import { constants, open } from 'node:fs';
import { ReadStream } from 'node:tty';
import { promisify } from 'node:util';
import { SaxesParser } from 'saxes';
import { errorMessage } from '../../../common/errors.js';
import { StormdErr } from '../errors.js';

const openFd = promisify(open);
const PTY_PATH = /^\/dev\/pts\/\d+$/;

/** Where an attachment's output goes. */
export interface SerialSink {
  data(chunk: Buffer): void;
  /** The port went away (the domain stopped, stormd closes); no more data follows. */
  closed(reason: string): void;
}

export interface SerialAttachment {
  write(bytes: Buffer): void;
  detach(): void;
}

/** The pty libvirt allocated for serial port 0 in a running domain's XML; null when it has none. */
export function serialPtyPath(xml: string): string | null {
  const parser = new SaxesParser();
  const stack: string[] = [];
  let serial: { path?: string; port?: string } | undefined;
  let found: string | null = null;
  parser.on('opentag', (tag) => {
    stack.push(tag.name);
    const parent = stack.at(-2);
    if (tag.name === 'serial' && parent === 'devices' && tag.attributes['type'] === 'pty') serial = {};
    if (serial && parent === 'serial' && tag.name === 'source' && typeof tag.attributes['path'] === 'string')
      serial.path = tag.attributes['path'];
    if (serial && parent === 'serial' && tag.name === 'target' && typeof tag.attributes['port'] === 'string')
      serial.port = tag.attributes['port'];
  });
  parser.on('closetag', (tag) => {
    stack.pop();
    if (tag.name !== 'serial' || !serial) return;
    if ((serial.port ?? '0') === '0' && serial.path && PTY_PATH.test(serial.path) && found === null) found = serial.path;
    serial = undefined;
  });
  parser.write(xml).close();
  return found;
}

/** One open pty and everyone attached to it. */
class Port {
  readonly sinks = new Set<SerialSink>();
  private ended = false;

  constructor(
    private readonly stream: ReadStream,
    private readonly onGone: () => void,
  ) {
    stream.on('data', (chunk: Buffer) => {
      for (const s of this.sinks) s.data(chunk);
    });
    // qemu closing the pty's master (the domain stopped) reads as end or EIO on our side.
    stream.on('end', () => this.end('the guest serial port closed (the domain stopped)'));
    stream.on('error', (err) => this.end(`the guest serial port failed: ${errorMessage(err)}`));
    stream.on('close', () => this.end('the guest serial port closed'));
  }

  write(bytes: Buffer): void {
    if (!this.ended) this.stream.write(bytes);
  }

  end(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.onGone();
    this.stream.destroy();
    for (const s of this.sinks) s.closed(reason);
    this.sinks.clear();
  }
}

export class SerialPorts {
  private readonly ports = new Map<string, Promise<Port>>();

  /** Attaches `sink` to instance `id`'s pty at `ptyPath`, opening it unless already open. */
  async attach(id: string, ptyPath: string, sink: SerialSink): Promise<SerialAttachment> {
    if (!PTY_PATH.test(ptyPath)) throw StormdErr.STORMD_ERR_BAD_INPUT(`${ptyPath} is not a pty`);
    let pending = this.ports.get(id);
    if (!pending) {
      const opening: Promise<Port> = this.openPort(id, ptyPath, () => {
        if (this.ports.get(id) === opening) this.ports.delete(id);
      });
      pending = opening;
      this.ports.set(id, opening);
      opening.catch(() => this.ports.delete(id));
    }
    const port = await pending;
    port.sinks.add(sink);
    return {
      write: (bytes) => port.write(bytes),
      detach: () => {
        port.sinks.delete(sink);
        if (port.sinks.size === 0) port.end('no one is attached');
      },
    };
  }

  /** Closes every port, telling whoever is attached why. */
  async closeAll(reason: string): Promise<void> {
    const ports = await Promise.allSettled([...this.ports.values()]);
    for (const p of ports) if (p.status === 'fulfilled') p.value.end(reason);
  }

  private async openPort(id: string, path: string, onGone: () => void): Promise<Port> {
    // O_NOCTTY: stormd must never make a guest's pty its controlling terminal.
    const fd = await openFd(path, constants.O_RDWR | constants.O_NOCTTY).catch((err: unknown) => {
      throw StormdErr.STORMD_ERR_SERIAL_UNAVAILABLE(`cannot open ${path} of ${id}: ${errorMessage(err)}`);
    });
    const stream = new ReadStream(fd);
    // qemu made the pty raw; set it again whatever another client left (echo, CR/LF mapping).
    stream.setRawMode(true);
    return new Port(stream, onGone);
  }
}
