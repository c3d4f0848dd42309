/**
 * WebSocket messages that arrive before the far end is ready (a serial port still opening, a viewer
 * still joining): held up to a byte budget, then handed over in order once it is. Shared by the
 * manager's and stormd's serial attach routes.
 *
 * @example
 * const input = new HeldInput(64 * 1024);
 * socket.on('message', input.onMessage);
 * const port = await open();
 * input.release((data, isBinary) => isBinary && port.write(rawBytes(data)));
 */
import type { RawData } from 'ws';

export class HeldInput {
  private held: { data: RawData; isBinary: boolean }[] | undefined = [];
  private heldBytes = 0;
  private deliver: ((data: RawData, isBinary: boolean) => void) | undefined;

  /** `maxBytes`: a client that sends more than this before release loses the rest of it. */
  constructor(private readonly maxBytes: number) {}

  /** For `socket.on('message', …)`: held until `release`, then delivered at once. */
  readonly onMessage = (data: RawData, isBinary: boolean): void => {
    if (this.deliver) return this.deliver(data, isBinary);
    this.heldBytes += rawBytes(data).length;
    if (this.held && this.heldBytes <= this.maxBytes) this.held.push({ data, isBinary });
  };

  /** From now on messages go to `deliver`, the held ones first, in the order they came. */
  release(deliver: (data: RawData, isBinary: boolean) => void): void {
    const held = this.held ?? [];
    this.held = undefined;
    this.deliver = deliver;
    for (const m of held) deliver(m.data, m.isBinary);
  }
}

/** A message's bytes, whichever of ws's shapes it came in. */
export function rawBytes(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}
