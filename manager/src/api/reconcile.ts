/** `POST /api/v1/reconcile`: one reconcile pass now, answering what it repaired. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ReconcileReport } from '../../protocol/index.js';
import type { Agree, KeysWithin } from '../http/wire-check.js';
import type { ReconcileReport as Report, Reconciler } from '../instances/reconcile.js';

// The report is built by the reconciler: a field it gains must be in the wire type too.
export type ReportAgrees = Agree<KeysWithin<Report, ReconcileReport>>;

export const reconcileRoutes: FastifyPluginAsyncTypebox<{ reconciler: Reconciler }> = async (app, { reconciler }) => {
  app.post('/reconcile', { schema: { response: { 200: ReconcileReport } } }, async () => reconciler.run());
};
