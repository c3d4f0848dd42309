/**
 * `storm host pki-bundle HOST --out DIR [--force]`: the manager issues libvirtd's server and a
 * libvirt client certificate for the host (fresh keys); the CLI writes them in libvirt's file
 * names, folder 0700, keys 0600, certificates 0644, with the manager's own bundle writer.
 */
import { access } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { IssuedCertificate } from '../../../trust/certificate-builder.js';
import { LIBVIRT_BUNDLE_FILES, writeLibvirtBundle } from '../../../trust/libvirt-bundle.js';
import { parseCommand } from '../args.js';
import type { CliContext } from '../context.js';
import { cliError, UsageError } from '../errors.js';
import type { LibvirtBundle, IssuedCertificate as IssuedJson } from '../views.js';
import { hostPath } from './hosts.js';

const issuedFromJson = (c: IssuedJson): IssuedCertificate => ({ ...c, notBefore: new Date(c.notBefore), notAfter: new Date(c.notAfter) });

export async function pkiBundle(ctx: CliContext, args: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommand(args, { out: { type: 'string' }, force: { type: 'boolean' } }, { min: 1, max: 1 });
  if (!values.out) throw new UsageError('--out DIR is required (where the bundle files go)');
  const dir = resolve(values.out);
  const force = values.force === true;
  // Refuse before the manager issues certificates nobody will keep.
  if (!force) {
    const paths = Object.values(LIBVIRT_BUNDLE_FILES).map((f) => join(dir, f.file));
    const existing = (
      await Promise.all(
        paths.map((p) =>
          access(p).then(
            () => p,
            () => undefined,
          ),
        ),
      )
    ).filter((p) => p !== undefined);
    if (existing.length) throw cliError('CLI_ERR_EXISTS', `${existing.join(', ')} already exist; pass --force to replace them`);
  }
  const bundle = await ctx.api.post<LibvirtBundle>(`${hostPath(positionals[0]!)}/pki-bundle`);
  const issuedRecords = { server: issuedFromJson(bundle.issued.server), client: issuedFromJson(bundle.issued.client) };
  const written = await writeLibvirtBundle(dir, { ...bundle, issued: issuedRecords }, { overwrite: force });
  const modeOf = (path: string) => Object.values(LIBVIRT_BUNDLE_FILES).find((f) => join(dir, f.file) === path)!.mode;
  const files = written.map((path) => ({ path, mode: `0${modeOf(path).toString(8)}` }));
  const issued = { server: pick(bundle.issued.server), client: pick(bundle.issued.client) };
  ctx.print(
    { host: positionals[0], dir, files, issued },
    `wrote the libvirt bundle for ${positionals[0]} to ${dir} (0700):
${files.map((f) => `  ${f.mode}  ${f.path}`).join('\n')}
server certificate serial ${issued.server.serial}, client certificate serial ${issued.client.serial}, valid until ${issued.server.notAfter}
docs/pki.md says where each file goes on the host and on the connecting side.`,
  );
  return 0;
}

const pick = (c: IssuedJson) => ({ serial: c.serial, notAfter: c.notAfter, fingerprint: c.fingerprint });
