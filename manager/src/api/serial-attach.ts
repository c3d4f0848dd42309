/**
 * `GET /api/v1/instances/:id/console/attach`: an instance's serial port as a WebSocket, for
 * administrators (wire: `common/serial-attach.ts`). Registered with the protected routes, so an
 * API token or a session cookie is required before the upgrade; on top of that, since a browser
 * sends the cookie with a WebSocket from any page: its Origin must be this manager's (a
 * cross-site page cannot attach), and a cookie must come with the session's CSRF token as a
 * subprotocol (a browser cannot set `x-csrf-token` on a WebSocket). Every refusal is an HTTP
 * answer with its code, before the upgrade.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { RawData, WebSocket } from 'ws';
import { errorMessage } from '../../../common/errors.js';
import { HeldInput, rawBytes } from '../../../common/held-input.js';
import { closeReason, csrfFromProtocols, SERIAL_CLOSE_ENDED, type SerialNotice } from '../../../common/serial-attach.js';
import { csrfMatches } from '../auth/require-auth.js';
import { InstanceParams, SerialAttachQuery } from '../../protocol/index.js';
import { MgrErr } from '../errors.js';
import { WebSocketUpgrade } from '../http/openapi.js';
import type { InstanceService } from '../instances/instance-service.js';
import { type SerialHandle, SerialSessions } from '../instances/serial-sessions.js';

/** Input held while a viewer joins; a client that types more than this before it is attached loses the rest. */
const EARLY_INPUT_MAX = 64 * 1024;

export interface SerialAttachOptions {
  readonly instances: InstanceService;
  /** The manager's public URL: its origin is accepted besides the one the request was addressed to. */
  readonly publicUrl: () => string;
}

/** Refuses a WebSocket whose Origin is another site's; one without Origin (not a browser) only with a token. */
export function checkOrigin(req: FastifyRequest, publicUrl: string): void {
  const origin = req.headers.origin;
  const own = new Set([`https://${req.headers.host ?? ''}`, originOf(publicUrl)]);
  if (origin === undefined) {
    if (req.session) throw MgrErr.MGR_ERR_ORIGIN('a console session must come from a page of this manager (no Origin sent)');
    return;
  }
  if (!own.has(origin)) throw MgrErr.MGR_ERR_ORIGIN(`${origin} is not ${[...own].filter(Boolean).join(' or ')}`);
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '';
  }
}

export const serialAttachRoutes: FastifyPluginAsyncTypebox<SerialAttachOptions> = async (app, { instances, publicUrl }) => {
  const sessions = new SerialSessions({ open: (id) => instances.attachSerial(id) });
  app.addHook('preClose', async () => sessions.closeAll('the manager is stopping'));

  app.get(
    '/instances/:id/console/attach',
    {
      websocket: true,
      schema: {
        params: InstanceParams,
        querystring: SerialAttachQuery,
        response: {
          101: WebSocketUpgrade('The serial port, as a WebSocket (subprotocol storm.serial.v1; frames in common/serial-attach.ts).'),
        },
      },
      preHandler: async (req) => {
        checkOrigin(req, publicUrl());
        if (req.session && !csrfMatches(csrfFromProtocols(req.headers['sec-websocket-protocol']), req.session.csrfToken)) {
          throw MgrErr.MGR_ERR_CSRF('a console session offers its CSRF token as the WebSocket subprotocol storm.csrf.<token>');
        }
        const row = await instances.find(req.params.id);
        if (row.state !== 'running')
          throw MgrErr.MGR_ERR_CONFLICT(`instance ${row.name} is ${row.state}; its serial port can be attached while it runs`);
      },
    },
    async (socket: WebSocket, req) => {
      const { id } = req.params;
      const takeover = req.query.takeover === true;
      let handle: SerialHandle | undefined;
      let gone = false;
      const notice = (n: SerialNotice) => {
        if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(n));
      };
      socket.on('close', () => {
        gone = true;
        handle?.leave();
      });
      // What a client sends as soon as it sees 'attached' may come before join() returns: held, then replayed in order.
      const input = new HeldInput(EARLY_INPUT_MAX);
      socket.on('message', input.onMessage);
      try {
        const row = await instances.find(id);
        handle = await sessions.join(
          row.id,
          {
            principal: req.principal ?? 'unknown',
            via: req.session ? 'console' : 'token',
            send: (bytes) => {
              if (socket.readyState === socket.OPEN) socket.send(bytes, { binary: true });
            },
            notice,
            close: (code, reason) => socket.close(code, closeReason(reason)),
          },
          { takeover },
        );
      } catch (err) {
        const reason = errorMessage(err);
        notice({ type: 'ended', reason });
        socket.close(SERIAL_CLOSE_ENDED, closeReason(reason));
        return;
      }
      if (gone) return handle.leave();
      const h = handle;
      input.release((data, isBinary) => {
        if (isBinary) h.input(rawBytes(data));
        else if (parseRequest(data)?.type === 'takeover') h.takeover();
      });
      req.log.info({ instance: id, principal: req.principal, client: handle.peer.client }, 'serial port attached');
    },
  );
};

function parseRequest(data: RawData): { type?: unknown } | undefined {
  try {
    const v: unknown = JSON.parse(rawBytes(data).toString('utf8'));
    return typeof v === 'object' && v !== null ? (v as { type?: unknown }) : undefined;
  } catch {
    return undefined;
  }
}
