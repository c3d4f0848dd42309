/**
 * `GET /v1/instances/:id/console/attach`: the instance's serial port as a WebSocket (wire contract
 * in `protocol.ts`). Refusals come before the upgrade, as HTTP answers with their code.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { errorMessage } from '../../../common/errors.js';
import { HeldInput, rawBytes } from '../../../common/held-input.js';
import { closeReason } from '../../../common/serial-attach.js';
import { SERIAL_CLOSE_ENDED, SERIAL_CLOSE_UNAVAILABLE } from '../../protocol.js';
import type { InstancesService } from '../instances/instances-service.js';
import { IdParams } from './schemas.js';

/** Input held while the port opens; a writer that sends more than this before it is open loses the rest. */
const EARLY_INPUT_MAX = 64 * 1024;

export interface SerialRoutesOptions {
  readonly instances: InstancesService;
}

export const serialRoutes: FastifyPluginAsync<SerialRoutesOptions> = async (base, opts) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const svc = opts.instances;
  app.get(
    '/instances/:id/console/attach',
    {
      websocket: true,
      schema: { params: IdParams },
      // Refuse before the upgrade, so the manager gets the code and message.
      preHandler: async (req) => {
        await svc.serialPty((req.params as { id: string }).id);
      },
    },
    async (socket, req) => {
      const id = (req.params as { id: string }).id;
      // The manager may write the moment it is upgraded, before the port is open: held, then written in order.
      const input = new HeldInput(EARLY_INPUT_MAX);
      socket.on('message', input.onMessage);
      let attachment;
      try {
        attachment = await svc.attachSerial(id, {
          data: (chunk) => socket.send(chunk, { binary: true }),
          closed: (reason) => socket.close(SERIAL_CLOSE_ENDED, closeReason(reason)),
        });
      } catch (err) {
        socket.close(SERIAL_CLOSE_UNAVAILABLE, closeReason(errorMessage(err)));
        return;
      }
      const a = attachment;
      // The manager may have gone while the port opened.
      if (socket.readyState !== socket.OPEN) return a.detach();
      input.release((data, isBinary) => isBinary && a.write(rawBytes(data)));
      socket.on('close', () => a.detach());
      req.log.info({ instance: id }, 'serial port attached');
    },
  );
};
