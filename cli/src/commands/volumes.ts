/**
 * `storm volume`: data volumes apart from the layer stack (`/api/v1/volumes`, docs/volumes.md):
 * `ls`, `create NAME --size S [--host H]`, `attach VOLUME INSTANCE`, `detach VOLUME`, `rm VOLUME`.
 */
import { parseCommand } from '../args.js';
import type { CommandSpec } from '../command.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { mib } from '../format.js';
import { serviceCall } from '../service-api.js';
import { table } from '../table.js';
import type { AttachedVolumeView, VolumeList, VolumeView } from '../views.js';
import { volumeSizeMiB } from './volume-size.js';

const WHAT = 'volumes';
const path = (name: string) => `/volumes/${encodeURIComponent(name)}`;

function volumeTable(volumes: readonly VolumeView[]): string {
  return table(
    ['NAME', 'SIZE', 'HOST', 'ATTACHED TO', 'SERIAL'],
    volumes.map((v) => [v.name, mib(v.sizeMiB), v.host, v.instance ?? '-', v.serial]),
  );
}

async function run(ctx: CliContext, sub: string | undefined, rest: readonly string[]): Promise<number> {
  switch (sub) {
    case 'ls':
    case undefined: {
      parseCommand(rest, {}, { min: 0, max: 0 });
      const { volumes } = await serviceCall(WHAT, () => ctx.api.get<VolumeList>('/volumes'));
      ctx.print(volumes, volumes.length ? volumeTable(volumes) : 'no volumes (storm volume create NAME --size 1G makes one)\n');
      return 0;
    }
    case 'create': {
      const { values, positionals } = parseCommand(rest, { size: { type: 'string' }, host: { type: 'string' } }, { min: 1, max: 1 });
      if (values.size === undefined) throw new UsageError('--size is required (for example --size 1G)');
      const body = { name: positionals[0]!, sizeMiB: volumeSizeMiB(values.size), ...(values.host ? { host: values.host } : {}) };
      const v = await serviceCall(WHAT, () => ctx.api.post<VolumeView>('/volumes', body));
      ctx.print(v, `created volume ${v.name} (${mib(v.sizeMiB)}, ext4) on ${v.host}; the guest sees serial ${v.serial}\n`);
      return 0;
    }
    case 'attach': {
      const { positionals } = parseCommand(rest, {}, { min: 2, max: 2 });
      const [name, instance] = positionals as [string, string];
      const v = await serviceCall(WHAT, () => ctx.api.post<AttachedVolumeView>(`${path(name)}/attach`, { instance }));
      const when = v.live ? 'now (hot-plugged)' : 'at its next start';
      ctx.print(v, `attached ${v.name} to ${v.instance}: the guest sees it ${when} as the disk with serial ${v.serial}\n`);
      return 0;
    }
    case 'detach': {
      const { positionals } = parseCommand(rest, {}, { min: 1, max: 1 });
      const v = await serviceCall(WHAT, () => ctx.api.post<VolumeView>(`${path(positionals[0]!)}/detach`, {}));
      ctx.print(v, `${v.name} is attached to nothing\n`);
      return 0;
    }
    case 'rm': {
      const { positionals } = parseCommand(rest, {}, { min: 1, max: 1 });
      const name = positionals[0]!;
      await serviceCall(WHAT, () => ctx.api.delete(path(name)));
      ctx.print({ name, removed: true }, `removed volume ${name} and its data\n`);
      return 0;
    }
    default:
      throw new UsageError(`unknown volume command ${JSON.stringify(sub)}`);
  }
}

export const volume: CommandSpec = {
  name: 'volume',
  usage: [
    'volume ls',
    'volume create NAME --size S [--host H]',
    'volume attach VOLUME INSTANCE',
    'volume detach VOLUME',
    'volume rm VOLUME',
  ],
  summary: 'data volumes: disks apart from the layer stack that outlive their instances',
  details: `  ls                             every volume: size, host, the instance it is attached to, the guest's serial
  create NAME --size S [--host H]
                                 a new ext4 volume of S (512M, 2G, 1T) on host H (default: the ready host
                                 with the fewest volumes); NAME is 1-32 of [a-z0-9-]
  attach VOLUME INSTANCE         attach it to INSTANCE (on the volume's host): hot-plugged while it runs,
                                 else at its next start; upgrade, rollback, reprovision and flatten keep it
  detach VOLUME                  detach it (unplugged at once while the guest runs: unmount it there first)
  rm VOLUME                      delete it and its data; refused while attached

The guest finds a volume by its serial: /sys/block/vd*/serial, or /dev/disk/by-id/virtio-SERIAL
where udev runs. Removing an instance keeps its volumes; \`storm package\` never includes them.

examples:
  storm volume create pgdata --size 2G
  storm volume attach pgdata db1
  storm volume detach pgdata && storm volume rm pgdata`,
  async run(ctx, args) {
    const [sub, ...rest] = args;
    return run(ctx, sub, rest);
  },
};
