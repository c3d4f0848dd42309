/** `GET /api/v1/doctor` (administrator): the manager's and every host's checks (`DoctorReport`); 200 whatever they find. */
import type { FastifyPluginAsync } from 'fastify';
import type { ManagerContext } from '../context.js';
import { runDoctor } from '../doctor/doctor.js';

export const doctorRoutes: FastifyPluginAsync<{ ctx: ManagerContext }> = async (app, { ctx }) => {
  app.get('/doctor', async () => runDoctor(ctx));
};
