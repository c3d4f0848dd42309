/**
 * `GET /v1/instances/:id/console/attach`: the instance's serial port as a WebSocket (wire contract
 * in `protocol.ts`). Refusals come before the upgrade, as HTTP answers with their code.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { RawData } from 'ws';
import { errorMessage } from '../../../common/errors.js';
import { closeReason } from '../../../common/serial-attach.js';
import { SERIAL_CLOSE_ENDED, SERIAL_CLOSE_UNAVAILABLE } from '../../protocol.js';
import type { InstancesService } from '../instances/instances-service.js';
import { IdParams } from './schemas.js';

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
      socket.on('message', (data: RawData, isBinary: boolean) => {
        if (isBinary) a.write(toBuffer(data));
      });
      socket.on('close', () => a.detach());
      req.log.info({ instance: id }, 'serial port attached');
    },
  );
};

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}
