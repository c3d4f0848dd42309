import { describe, expect, it } from 'vitest';
import { type SseMessage, sseParser } from './sse-parser.js';

describe('sseParser', () => {
  it('parses events split anywhere across chunks, skipping comments and retry lines', () => {
    const got: SseMessage[] = [];
    const parse = sseParser((m) => got.push(m));
    const text =
      'retry: 2000\n\n: keep-alive\n\nid: 1\nevent: pull.progress\ndata: {"bytes":1}\n\nid: 2\nevent: instance.state\ndata: {"a":\ndata: 2}\r\n\r\n';
    for (let i = 0; i < text.length; i += 3) parse(text.slice(i, i + 3));
    expect(got).toEqual([
      { id: '1', type: 'pull.progress', data: '{"bytes":1}' },
      { id: '2', type: 'instance.state', data: '{"a":\n2}' },
    ]);
  });
});
