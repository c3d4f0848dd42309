/**
 * Import a disk image (qcow2 or raw) from this computer into the manager's local channel, as
 * `storm image import` does: hashed in the browser, uploaded with progress, checked by the
 * manager with qemu-img before it is kept. Shown on the catalog page.
 */
import { useRef, useState } from 'preact/hooks';
import type { ImageImportAnswer } from '../../../manager/protocol/index.js';
import { type ApiError, toApiError } from '../api/client.js';
import { bytes } from '../format.js';
import { guessFormat, type ImageFormat, type ImportProgress, importImage } from '../image-import/upload.js';
import { ErrorBox } from '../ui/error-box.js';
import { Field } from '../ui/field.js';
import { Link } from '../ui/link.js';
import { ProgressBar } from '../ui/progress-bar.js';

const PHASE: Record<ImportProgress['phase'], string> = {
  hashing: 'Hashing',
  uploading: 'Uploading',
  checking: 'The manager checks the image',
};

function progressText(p: ImportProgress): string {
  if (p.phase === 'checking') return `${PHASE.checking} (qemu-img)…`;
  return `${PHASE[p.phase]}: ${bytes(p.done)} of ${bytes(p.total)}`;
}

export function ImageImportForm({ onDone, onClose }: { readonly onDone: () => void; readonly onClose: () => void }) {
  const [file, setFile] = useState<File | undefined>(undefined);
  const [name, setName] = useState('');
  const [version, setVersion] = useState('1.0.0');
  const [format, setFormat] = useState<ImageFormat>('raw');
  const [firmware, setFirmware] = useState<'bios' | 'uefi'>('bios');
  const [memory, setMemory] = useState('512');
  const [vcpus, setVcpus] = useState('1');
  const [progress, setProgress] = useState<ImportProgress | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [done, setDone] = useState<ImageImportAnswer | undefined>(undefined);
  const abort = useRef<AbortController | undefined>(undefined);
  const busy = progress !== undefined;

  const pick = async (f: File | undefined) => {
    setFile(f);
    setError(undefined);
    setDone(undefined);
    if (!f) return;
    setFormat(await guessFormat(f));
    // A name from the file's, as an appliance name must be: lowercase letters, digits and dashes.
    if (!name)
      setName(
        f.name
          .replace(/\.(qcow2|raw|img)$/i, '')
          .toLowerCase()
          .replace(/[^a-z0-9-]+/g, '-')
          .replace(/^-+|-+$/g, '')
          .slice(0, 63),
      );
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!file) return;
    setError(undefined);
    setDone(undefined);
    abort.current = new AbortController();
    try {
      const answer = await importImage(
        file,
        { name: name.trim(), version: version.trim(), format, firmware, memoryMiB: Number(memory), vcpus: Number(vcpus) },
        setProgress,
        abort.current.signal,
      );
      setDone(answer);
      onDone();
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setProgress(undefined);
      abort.current = undefined;
    }
  };

  return (
    <form class="card form" onSubmit={(e) => void submit(e)} aria-labelledby="import-title">
      <h2 id="import-title">Import a disk image</h2>
      <p class="muted small">
        A qcow2 or raw image from this computer becomes a traditional appliance of the local channel. The manager keeps it only when its
        bytes arrive whole and qemu-img finds it a standalone image of the stated format: no backing file, no external data file. Cloud-init
        in the image is configured by STORM at launch.
      </p>
      <ErrorBox error={error} title="Not imported" />
      <Field id="import-file" label="Image file">
        <input id="import-file" type="file" required disabled={busy} onChange={(e) => void pick(e.currentTarget.files?.[0])} />
      </Field>
      <div class="inline-fields wrap">
        <Field id="import-name" label="Name" hint="lowercase letters, digits and dashes">
          <input
            id="import-name"
            required
            pattern="[a-z0-9][a-z0-9-]*"
            maxLength={63}
            disabled={busy}
            value={name}
            aria-describedby="import-name-hint"
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </Field>
        <Field id="import-version" label="Version">
          <input id="import-version" required disabled={busy} value={version} onInput={(e) => setVersion(e.currentTarget.value)} />
        </Field>
        <Field id="import-format" label="Format" hint={file ? 'read from the file' : undefined}>
          <select id="import-format" disabled={busy} value={format} onChange={(e) => setFormat(e.currentTarget.value as ImageFormat)}>
            <option value="raw">raw</option>
            <option value="qcow2">qcow2</option>
          </select>
        </Field>
        <Field id="import-firmware" label="Firmware" hint="UEFI needs OVMF on the host">
          <select
            id="import-firmware"
            disabled={busy}
            value={firmware}
            onChange={(e) => setFirmware(e.currentTarget.value === 'uefi' ? 'uefi' : 'bios')}
          >
            <option value="bios">BIOS</option>
            <option value="uefi">UEFI</option>
          </select>
        </Field>
        <Field id="import-memory" label="Memory (MiB)">
          <input
            id="import-memory"
            type="number"
            min={16}
            required
            disabled={busy}
            value={memory}
            onInput={(e) => setMemory(e.currentTarget.value)}
          />
        </Field>
        <Field id="import-vcpus" label="vCPUs">
          <input
            id="import-vcpus"
            type="number"
            min={1}
            max={256}
            required
            disabled={busy}
            value={vcpus}
            onInput={(e) => setVcpus(e.currentTarget.value)}
          />
        </Field>
      </div>
      {progress ? (
        <ProgressBar value={progress.done} max={progress.total} label={`Import of ${name}`} text={progressText(progress)} />
      ) : null}
      {done ? (
        <p class="ok-text" role="status">
          {done.name} {done.version} imported ({bytes(done.size)}).{' '}
          <Link href={`/launch?appliance=${encodeURIComponent(done.name)}&version=${encodeURIComponent(done.version)}`}>Launch it →</Link>
        </p>
      ) : null}
      <div class="actions">
        <button type="submit" class="primary" disabled={busy || !file}>
          {busy ? 'Importing…' : 'Import'}
        </button>
        {busy ? (
          <button type="button" onClick={() => abort.current?.abort()}>
            Cancel
          </button>
        ) : (
          <button type="button" onClick={onClose}>
            Close
          </button>
        )}
      </div>
    </form>
  );
}
