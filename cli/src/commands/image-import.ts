/**
 * `storm image import FILE --name N --version V [--format qcow2|raw] [--firmware bios|uefi]`:
 * a disk image becomes a traditional appliance of the manager's local channel, launched like any.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { parseCommand } from '../args.js';
import type { CommandSpec } from '../command.js';
import { UsageError } from '../errors.js';
import { formatBytes } from '../format.js';

export const image: CommandSpec = {
  name: 'image',
  usage: ['image import FILE --name NAME --version VERSION [--format qcow2|raw] [--firmware bios|uefi] [--memory MIB] [--vcpus N]'],
  summary: "a disk image (qcow2 or raw) into the manager's local channel, as a traditional appliance",
  details: `The manager keeps it only when its bytes arrive whole and qemu-img finds it a standalone image
of the stated format: no backing file, no external data file. Cloud-init in the image is configured
by STORM at launch (host name, address, DNS, your SSH keys: storm launch NAME INSTANCE --ssh-key KEY).

  --format qcow2|raw   the image's format; default from the file name (.qcow2, else raw)
  --firmware bios|uefi how it boots (default bios; uefi needs OVMF on the host)
  --memory MIB         memory of its instances (default 512)
  --vcpus N            virtual CPUs of its instances (default 1)

example: storm image import debian.raw --name my-debian --version 1.0.0`,
  async run(ctx, args) {
    const { values, positionals } = parseCommand(
      args,
      {
        name: { type: 'string' },
        version: { type: 'string' },
        format: { type: 'string' },
        firmware: { type: 'string' },
        memory: { type: 'string' },
        vcpus: { type: 'string' },
      },
      { min: 2, max: 2 },
    );
    if (positionals[0] !== 'import') throw new UsageError(`unknown image command ${JSON.stringify(positionals[0])} (known: import)`);
    const file = positionals[1]!;
    if (!values.name || !values.version) throw new UsageError('image import needs --name and --version');
    const format = values.format ?? (file.endsWith('.qcow2') ? 'qcow2' : 'raw');
    if (format !== 'qcow2' && format !== 'raw') throw new UsageError(`--format ${format}: qcow2 or raw`);
    if (values.firmware && values.firmware !== 'bios' && values.firmware !== 'uefi')
      throw new UsageError(`--firmware ${values.firmware}: bios or uefi`);
    const size = (await stat(file).catch(() => undefined))?.size;
    if (size === undefined) throw new UsageError(`${file}: no such file`);
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
    const query = new URLSearchParams({
      name: values.name,
      version: values.version,
      format,
      sha256: hash.digest('hex'),
      size: String(size),
    });
    if (values.firmware) query.set('firmware', values.firmware);
    if (values.memory) query.set('memoryMiB', values.memory);
    if (values.vcpus) query.set('vcpus', values.vcpus);
    const answer = await ctx.api.upload<{ name: string; version: string; sha256: string; size: number }>(
      `/images/import?${query}`,
      file,
      size,
    );
    ctx.print(answer, `${answer.name} ${answer.version}: imported (${format}, ${formatBytes(answer.size)}) into the local channel`);
    return 0;
  },
};
