/** `POST /api/v1/reconcile`: one reconcile pass now, answering what it repaired. */
import type { FastifyPluginAsync } from 'fastify';
import type { Reconciler } from '../instances/reconcile.js';

export const reconcileRoutes: FastifyPluginAsync<{ reconciler: Reconciler }> = async (app, { reconciler }) => {
  app.post('/reconcile', async () => reconciler.run());
};
