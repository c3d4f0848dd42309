import { describe, expect, it } from 'vitest';
import { newSerialText } from './serial-tail.js';

describe('newSerialText', () => {
  it('picks the bytes after what was seen', () => {
    expect(newSerialText({ text: 'abcdef', offset: 10, size: 16 }, 13)).toEqual({ text: 'def', skipped: 0, restarted: false });
    expect(newSerialText({ text: 'abcdef', offset: 10, size: 16 }, 16)).toEqual({ text: '', skipped: 0, restarted: false });
  });

  it('counts what fell outside the window, and notices a new log', () => {
    expect(newSerialText({ text: 'abc', offset: 7, size: 10 }, 2)).toEqual({ text: 'abc', skipped: 5, restarted: false });
    expect(newSerialText({ text: 'xy', offset: 0, size: 2 }, 50)).toEqual({ text: 'xy', skipped: 0, restarted: true });
  });

  it('handles a multi-byte character cut at the start of the window', () => {
    // "é" is two bytes; the window starts on its second byte, which decodes as U+FFFD (three bytes).
    const log = Buffer.from('aé-new');
    const window = log.subarray(2);
    const tail = { text: window.toString('utf8'), offset: 2, size: log.length };
    expect(newSerialText(tail, log.length - 4)).toEqual({ text: '-new', skipped: 0, restarted: false });
    expect(newSerialText({ text: 'é-new', offset: 1, size: log.length }, 1)).toEqual({ text: 'é-new', skipped: 0, restarted: false });
  });
});
