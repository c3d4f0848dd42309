/**
 * `GET /v1/activity`: what the host is doing now (`HostActivity`), so the manager can say what a
 * slow call was waiting on. Every request is listed while it is answered (`METHOD URL`).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { HostActivity } from '../../protocol.js';
import type { Activity } from '../activity.js';

export interface ActivityRoutesOptions {
  readonly activity: Activity;
}

export const activityRoutes: FastifyPluginAsync<ActivityRoutesOptions> = async (app, { activity }) => {
  app.get('/activity', async (): Promise<HostActivity> => activity.list());
};
