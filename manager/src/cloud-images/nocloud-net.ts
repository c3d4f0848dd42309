/**
 * The NoCloud-net copy of a traditional instance's seed on the guest listener:
 * `GET /nocloud/meta-data`, `/nocloud/user-data`, `/nocloud/network-config` (and an empty
 * `/nocloud/vendor-data`), answered only to the reserved address of a traditional instance. The
 * instance's token is known to the manager only by its hash, so this copy carries no token: an image
 * that reads it gets its name, address, keys and files, but cannot report its status.
 *
 * @example
 * await app.register(noCloudRoutes, { source });  // on the guest listener
 */
import type { FastifyPluginAsync } from 'fastify';
import { MgrErr } from '../errors.js';
import type { GuestFilesInput } from '../guests/guest-files.js';
import { guestFiles } from '../guests/guest-files.js';
import type { InstanceStore } from '../instances/instance-store.js';
import { cloudSeed } from './cloud-seed.js';
import type { ImageInstanceStore } from './image-instance-store.js';

export interface NoCloudSource {
  readonly store: Pick<InstanceStore, 'byAddress'>;
  readonly images: ImageInstanceStore;
  readonly domain: () => string;
  readonly guest: () => GuestFilesInput;
  readonly network: () => { readonly prefix: number; readonly gateway?: string | undefined; readonly dns: string } | undefined;
}

const FILES = new Set(['meta-data', 'user-data', 'network-config', 'vendor-data']);

export const noCloudRoutes: FastifyPluginAsync<{ source: NoCloudSource }> = async (app, { source }) => {
  app.get<{ Params: { file: string } }>('/nocloud/:file', async (request, reply) => {
    const file = request.params.file;
    if (!FILES.has(file)) throw MgrErr.MGR_ERR_NOT_FOUND(`/nocloud/${file.slice(0, 40)}`);
    const ip = request.ip.replace(/^::ffff:/, '');
    // Without an appliance network an address proves nothing: then there is no NoCloud-net.
    const net = source.network();
    const row = net ? await source.store.byAddress(ip) : undefined;
    const image = row ? await source.images.get(row.id) : undefined;
    if (!row || !image) throw MgrErr.MGR_ERR_NOT_FOUND(`no traditional instance at ${ip}`);
    if (file === 'vendor-data') return reply.type('text/plain').send('');
    const { '/etc/storm/token': _token, ...files } = guestFiles('', source.guest());
    const params = JSON.parse(row.params) as Record<string, unknown>;
    const userData = params['userData'];
    const seed = cloudSeed({
      instanceId: row.id,
      name: row.name,
      domain: source.domain(),
      mac: row.mac,
      ip: row.ip,
      net,
      sshKeys: image.sshKeys,
      files,
      guestUrl: source.guest().guestUrl,
      ...(typeof userData === 'string' && userData ? { userData } : {}),
      reportStatus: false,
    });
    const text = file === 'meta-data' ? seed.metaData : file === 'user-data' ? seed.userData : (seed.networkConfig ?? '');
    return reply.type('text/plain').send(text);
  });
};
