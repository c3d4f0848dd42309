import { describe, expect, it } from 'vitest';
import { escapeTerminal, TerminalText } from './terminal-text.js';

describe('escapeTerminal', () => {
  it('shows escape sequences instead of passing them on', () => {
    expect(escapeTerminal('\x1b[31mred\x1b[0m')).toBe('^[[31mred^[[0m');
    // A window title (OSC) and a query the terminal would answer as if typed.
    expect(escapeTerminal('\x1b]0;owned\x07\x1b[6n')).toBe('^[]0;owned^G^[[6n');
  });

  it('keeps line feeds and tabs; CR LF is a line end, a lone CR is shown', () => {
    expect(escapeTerminal('a\tb\r\nc\n')).toBe('a\tb\nc\n');
    expect(escapeTerminal('rm -rf /\rls')).toBe('rm -rf /^Mls');
    expect(escapeTerminal('end\r')).toBe('end^M');
  });

  it('shows DEL, NUL and 8-bit controls (C1)', () => {
    expect(escapeTerminal('\x00\x7f')).toBe('^@^?');
    expect(escapeTerminal('\u009b31m')).toBe('\\x9b31m');
  });

  it('leaves other text alone, multi-byte characters included', () => {
    expect(escapeTerminal('héllo ✓ 日本 \ufffd')).toBe('héllo ✓ 日本 \ufffd');
  });
});

describe('TerminalText', () => {
  it('joins a CR LF split across two chunks', () => {
    const t = new TerminalText();
    expect(t.push('line\r')).toBe('line');
    expect(t.push('\nnext')).toBe('\nnext');
    expect(t.push('\r')).toBe('');
    expect(t.push('x')).toBe('^Mx');
    expect(t.push('\r')).toBe('');
    expect(t.end()).toBe('^M');
  });
});
