/** `GET /api/v1/doctor` (administrator): the manager's and every host's checks (`DoctorReport`); 200 whatever they find. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DoctorReport } from '../../protocol/index.js';
import type { ManagerContext } from '../context.js';
import { runDoctor } from '../doctor/doctor.js';

export const doctorRoutes: FastifyPluginAsyncTypebox<{ ctx: ManagerContext }> = async (app, { ctx }) => {
  app.get('/doctor', { schema: { response: { 200: DoctorReport } } }, async () => runDoctor(ctx));
};
