/** `GET` and `PUT /api/v1/account/ssh-keys`: the caller's own SSH public keys, installed by cloud-init in every traditional instance they launch. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AccountSshKeys } from '../../protocol/index.js';
import type { ImageInstanceStore } from '../cloud-images/image-instance-store.js';

export interface AccountRouteOptions {
  readonly images: ImageInstanceStore;
}

export const accountRoutes: FastifyPluginAsyncTypebox<AccountRouteOptions> = async (app, { images }) => {
  app.get('/account/ssh-keys', { schema: { response: { 200: AccountSshKeys } } }, async (request) => ({
    keys: await images.accountKeys(request.principal ?? ''),
  }));
  app.put('/account/ssh-keys', { schema: { body: AccountSshKeys, response: { 200: AccountSshKeys } } }, async (request) => {
    const keys = [...new Set(request.body.keys)];
    await images.setAccountKeys(request.principal ?? '', keys);
    return { keys };
  });
};
