/**
 * The launch parts of a traditional appliance (`kind` image) that differ from a layered one's:
 * instead of the instance layer, its record's image row (firmware, disk size, SSH keys) and its
 * disk on the host, an overlay on the staged image with the cloud-init seed beside it
 * (`cloud-seed.ts`). The record, principals, staging, the account, define and start are shared.
 *
 * @example
 * launchPlans({ ...services, imageParts: (s) => imageParts(s, { steps, network, domain }) });
 */
import { MgrErr } from '../errors.js';
import { guestFiles } from '../guests/guest-files.js';
import { hostOf, type LaunchPart, type LaunchRun, type LaunchServices, reserved } from '../instances/launch-parts.js';
import { cloudSeed } from './cloud-seed.js';
import type { ImageSteps } from './image-steps.js';

export interface ImageLaunch {
  readonly steps: ImageSteps;
  /** The search domain and FQDN suffix. */
  readonly domain: () => string;
  /** The appliance network the seed configures, when the manager runs one. */
  readonly network: () => { readonly prefix: number; readonly gateway?: string | undefined; readonly dns: string } | undefined;
}

/** The disk size a launch gets: what it asked, at least the image's minimum. */
export function diskSizeFor(run: Pick<LaunchRun, 'entry' | 'diskMiB'>): number {
  const image = run.entry.descriptor.image;
  if (!image) throw MgrErr.MGR_ERR_VALIDATION(`${run.entry.name} ${run.entry.version} is no traditional appliance: it has no disk size`);
  const size = run.diskMiB ?? image.minDiskMiB;
  if (size < image.minDiskMiB)
    throw MgrErr.MGR_ERR_VALIDATION(`a disk of ${size} MiB is below ${run.entry.name}'s minimum of ${image.minDiskMiB} MiB`);
  return size;
}

export function imageParts(s: LaunchServices, img: ImageLaunch): readonly LaunchPart[] {
  return [
    {
      name: 'image disk',
      steps: [img.steps.record, img.steps.disk],
      event: 'layer',
      run: async (run) => {
        const image = run.entry.descriptor.image;
        const file = run.files.find((f) => f.kind === 'image');
        if (!image || !file) throw MgrErr.MGR_ERR_VALIDATION(`${run.entry.name} ${run.entry.version} has no disk image`);
        const diskMiB = diskSizeFor(run);
        const sshKeys = [...new Set(run.sshKeys ?? [])];
        await run.op.commit(img.steps.record, { instanceId: run.id }, { firmware: image.firmware, diskMiB, sshKeys });
        const guest = s.guest();
        const row = reserved(run);
        const userData = run.params['userData'];
        const seed = cloudSeed({
          instanceId: run.id,
          name: run.name,
          domain: img.domain(),
          mac: row.mac,
          ip: row.ip ?? null,
          net: img.network(),
          sshKeys,
          files: { ...guestFiles(run.token, guest), ...run.guestFiles },
          guestUrl: guest.guestUrl,
          managerAddress: guest.managerAddress,
          ...(typeof userData === 'string' && userData ? { userData } : {}),
        });
        await run.op.run(
          img.steps.disk,
          { hostId: hostOf(run), instanceId: run.id },
          { name: run.name, image: file.sha256, format: image.format, firmware: image.firmware, sizeMiB: diskMiB, seed },
        );
      },
    },
  ];
}
