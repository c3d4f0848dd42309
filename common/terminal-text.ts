/**
 * Guest text made safe to print: a guest writes what it likes on its serial port, and escape
 * sequences reaching an administrator's terminal could move its cursor, retitle its window,
 * rewrite what is on screen or answer queries as if typed. Every control character is shown
 * instead of obeyed: C0 in caret notation (`ESC` → `^[`, a lone CR → `^M`), DEL as `^?`, C1
 * (U+0080–U+009F, which some terminals obey as 8-bit controls) as `\x9b`. Line feeds and tabs
 * stay; CR LF, the serial line's end of line, becomes LF. Only the attached raw session
 * (`storm console --attach`, the web terminal) passes bytes through.
 *
 * @example
 * escapeTerminal('\x1b[31mred\x1b[0m\r\n'); // '^[[31mred^[[0m\n'
 * const t = new TerminalText(); t.push('a\r'); t.push('\nb'); // 'a', '\nb'
 */

/** Streaming form: a CR at the end of one chunk may be the start of the next chunk's CR LF. */
export class TerminalText {
  private cr = false;

  /** The escaped form of `text`, continuing from the previous chunk. */
  push(text: string): string {
    let out = '';
    for (const ch of text) {
      const code = ch.codePointAt(0) ?? 0;
      if (this.cr) {
        this.cr = false;
        if (code !== 0x0a) out += '^M';
      }
      if (code === 0x0d) this.cr = true;
      else out += escapeChar(ch, code);
    }
    return out;
  }

  /** What a held CR becomes when no more text follows. */
  end(): string {
    const out = this.cr ? '^M' : '';
    this.cr = false;
    return out;
  }
}

/** One whole text, escaped. */
export function escapeTerminal(text: string): string {
  const t = new TerminalText();
  return t.push(text) + t.end();
}

function escapeChar(ch: string, code: number): string {
  if (code === 0x0a || code === 0x09) return ch;
  if (code < 0x20) return `^${String.fromCharCode(code + 0x40)}`;
  if (code === 0x7f) return '^?';
  if (code >= 0x80 && code <= 0x9f) return `\\x${code.toString(16)}`;
  return ch;
}
