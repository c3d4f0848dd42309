/**
 * A server-sent-events parser for text arriving in chunks (the `text/event-stream` format: `id`,
 * `event`, `data` lines, a blank line ends an event, `:` lines are comments).
 *
 * @example
 * const parse = sseParser((e) => console.log(e.type, e.data));
 * parse('id: 7\nevent: instance.state\ndata: {"state":"running"}\n\n');
 */
export interface SseMessage {
  readonly id: string | undefined;
  readonly type: string;
  readonly data: string;
}

export function sseParser(onMessage: (m: SseMessage) => void): (chunk: string) => void {
  let buffer = '';
  let id: string | undefined;
  let type = '';
  let data: string[] = [];
  const line = (l: string) => {
    if (l === '') {
      if (data.length) onMessage({ id, type: type || 'message', data: data.join('\n') });
      type = '';
      data = [];
      return;
    }
    if (l.startsWith(':')) return;
    const colon = l.indexOf(':');
    const field = colon < 0 ? l : l.slice(0, colon);
    const value = colon < 0 ? '' : l.slice(colon + 1).replace(/^ /, '');
    if (field === 'data') data.push(value);
    else if (field === 'event') type = value;
    else if (field === 'id') id = value;
  };
  return (chunk) => {
    buffer += chunk;
    const lines = buffer.split(/\r\n|\r|\n/);
    buffer = lines.pop() ?? '';
    for (const l of lines) line(l);
  };
}
