/**
 * The instance's serial port as a terminal (xterm.js, loaded when first opened): the manager's
 * WebSocket at `/api/v1/instances/:id/console/attach`, the session's CSRF token offered as a
 * subprotocol. One administrator writes at a time; the others read and may take over, and
 * everyone attached is told (wire: `common/serial-attach.ts`).
 */
import type { Terminal } from '@xterm/xterm';
import { useEffect, useRef, useState } from 'preact/hooks';
import {
  csrfProtocol,
  peerLabel,
  SERIAL_PROTOCOL,
  type SerialNotice,
  type SerialPeer,
  type SerialRole,
} from '../../../common/serial-attach.js';
import { currentCsrfToken } from '../api/client.js';
import { withAdoptedStyles } from '../ui/adopted-styles.js';

type Status =
  | { readonly kind: 'closed' }
  | { readonly kind: 'connecting' }
  | { readonly kind: 'open'; readonly role: SerialRole; readonly writer: SerialPeer | null }
  | { readonly kind: 'ended'; readonly reason: string };

interface Live {
  readonly ws: WebSocket;
  readonly term: Terminal;
}

function noticeLine(n: SerialNotice): string {
  switch (n.type) {
    case 'attached':
      return n.role === 'writer'
        ? `Attached as ${peerLabel(n.you)}: you write.`
        : `Attached read only: ${n.writer ? peerLabel(n.writer) : 'nobody'} writes.`;
    case 'writer':
      if (n.reason === 'left') return `${n.previous ? peerLabel(n.previous) : 'The writer'} left; nobody writes now.`;
      if (n.role === 'writer') return n.previous ? `You took over from ${peerLabel(n.previous)}.` : 'You write now.';
      return n.reason === 'takeover' && n.writer && n.previous
        ? `${peerLabel(n.writer)} took over from ${peerLabel(n.previous)}; read only now.`
        : `${n.writer ? peerLabel(n.writer) : 'Someone'} writes now.`;
    case 'ended':
      return `The serial port closed: ${n.reason}`;
  }
}

export function SerialTerminal({ id, name, running }: { readonly id: string; readonly name: string; readonly running: boolean }) {
  const [status, setStatus] = useState<Status>({ kind: 'closed' });
  const [news, setNews] = useState('');
  const screen = useRef<HTMLElement>(null);
  const live = useRef<Live | undefined>(undefined);

  const close = () => {
    live.current?.ws.close(1000, 'closed the terminal');
    live.current?.term.dispose();
    live.current = undefined;
  };
  useEffect(() => close, [id]);

  const open = async (takeover = false) => {
    close();
    setStatus({ kind: 'connecting' });
    setNews('');
    const { Terminal } = await import('@xterm/xterm');
    const term = new Terminal({
      cols: 100,
      rows: 30,
      convertEol: false,
      disableStdin: true,
      cursorBlink: true,
      fontSize: 14,
      scrollback: 2000,
    });
    const el = screen.current;
    if (el) {
      withAdoptedStyles(document, () => term.open(el));
      // xterm draws only while its screen is in view.
      el.scrollIntoView({ block: 'nearest' });
    }
    const url = `wss://${location.host}/api/v1/instances/${encodeURIComponent(id)}/console/attach${takeover ? '?takeover=true' : ''}`;
    const ws = new WebSocket(url, [SERIAL_PROTOCOL, csrfProtocol(currentCsrfToken() ?? '')]);
    ws.binaryType = 'arraybuffer';
    live.current = { ws, term };
    const encoder = new TextEncoder();
    term.onData((data) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(encoder.encode(data));
    });
    ws.onmessage = (e: MessageEvent<ArrayBuffer | string>) => {
      if (typeof e.data !== 'string') return term.write(new Uint8Array(e.data));
      const n = JSON.parse(e.data) as SerialNotice;
      setNews(noticeLine(n));
      if (n.type === 'ended') return setStatus({ kind: 'ended', reason: n.reason });
      term.options.disableStdin = n.role !== 'writer';
      setStatus({ kind: 'open', role: n.role, writer: n.writer });
      if (n.role === 'writer') term.focus();
    };
    ws.onclose = (e) => {
      if (live.current?.ws !== ws) return;
      // A refusal before the upgrade reaches a page as a bare close: the instance page says why (state, host).
      setStatus((s) =>
        s.kind === 'ended'
          ? s
          : {
              kind: 'ended',
              reason:
                e.reason ||
                (s.kind === 'connecting'
                  ? 'the manager refused to attach (is the instance running and its host ready?)'
                  : `the connection closed (${e.code})`),
            },
      );
    };
  };

  const takeover = () => live.current?.ws.send(JSON.stringify({ type: 'takeover' }));
  const attached = status.kind === 'open' || status.kind === 'connecting';

  return (
    <section class="card" aria-labelledby="terminal-title">
      <div class="section-head">
        <h2 id="terminal-title">Terminal</h2>
        <div class="row-actions">
          {status.kind === 'open' && status.role === 'reader' ? (
            <button type="button" onClick={takeover}>
              Take over
            </button>
          ) : null}
          {attached ? (
            <button
              type="button"
              onClick={() => {
                close();
                setStatus({ kind: 'closed' });
              }}
            >
              Close terminal
            </button>
          ) : (
            <button type="button" class="primary" onClick={() => void open()} disabled={!running}>
              Open terminal
            </button>
          )}
        </div>
      </div>
      <p class="muted small">
        {running
          ? `The serial console of ${name}, as the guest's own terminal. One administrator types at a time; press Enter for a prompt.`
          : `${name} is not running: its serial console opens while it runs.`}
      </p>
      <p class="small" role="status" aria-live="polite">
        {status.kind === 'connecting' ? 'Connecting…' : status.kind === 'ended' ? `Closed: ${status.reason}` : news}
      </p>
      <section
        class={`serial-screen${attached || status.kind === 'ended' ? '' : ' hidden'}`}
        ref={screen}
        aria-label={`Terminal of ${name}`}
      />
    </section>
  );
}
