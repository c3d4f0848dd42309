import { describe, expect, it } from 'vitest';
import { parseEventBlock } from './client.js';

describe('parseEventBlock', () => {
  it('reads id, event and JSON data; ignores comments', () => {
    expect(parseEventBlock(': keep-alive\nid: 7\nevent: pull.progress\ndata: {"bytes":5}')).toEqual({
      id: '7',
      type: 'pull.progress',
      data: { bytes: 5 },
    });
    expect(parseEventBlock(': keep-alive')).toBeUndefined();
    expect(parseEventBlock('retry: 2000')).toBeUndefined();
    expect(parseEventBlock('data: not json')).toEqual({ id: undefined, type: 'message', data: { text: 'not json' } });
  });
});
