/**
 * What a poll of an instance's serial log adds to what was printed: the manager answers the log's last
 * bytes as UTF-8 with their offset and the log's size; this picks the bytes after `seen`.
 *
 * @example
 * newSerialText({ text: 'abcdef', offset: 10, size: 16 }, 13); // { text: 'def', skipped: 0, restarted: false }
 */
import type { SerialTail } from './views.js';

export interface SerialDelta {
  readonly text: string;
  /** Bytes written since the last poll that fell outside the window asked for. */
  readonly skipped: number;
  /** The log is shorter than before: the instance started a new one. */
  readonly restarted: boolean;
}

export function newSerialText(tail: SerialTail, seen: number): SerialDelta {
  if (tail.size < seen) return { text: tail.text, skipped: tail.offset, restarted: true };
  const fresh = tail.size - seen;
  if (fresh === 0) return { text: '', skipped: 0, restarted: false };
  const buf = Buffer.from(tail.text, 'utf8');
  const window = tail.size - tail.offset;
  if (fresh > window) return { text: tail.text, skipped: fresh - window, restarted: false };
  // Exact when the text re-encodes to the bytes it came from; else a character was cut at the
  // start of the window (U+FFFD), and the new bytes are still the last `fresh` ones.
  const start = buf.length === window ? seen - tail.offset : Math.max(0, buf.length - fresh);
  return { text: buf.subarray(start).toString('utf8'), skipped: 0, restarted: false };
}
