/**
 * The host files a domain's XML points at (disk sources, kernel, initrd), so the layer store can
 * refuse to delete a file a defined domain still uses, and each disk with its read-only flag, so
 * a layer a domain writes to is never read as if it stood still. The XML is libvirt's own answer;
 * saxes parses it without expanding entities.
 *
 * @example
 * domainFiles(await driver.xml('storm-i1')); // ['/d/layers/<sha>', '/d/instances/i1/writable/w0.qcow2', …]
 * domainDisks(await driver.xml('storm-i1')); // [{ file: '/d/layers/<sha>', readonly: true }, …]
 */
import { SaxesParser } from 'saxes';

export interface DomainDisk {
  readonly file: string;
  readonly readonly: boolean;
}

interface Parsed {
  readonly disks: DomainDisk[];
  readonly bootFiles: string[];
}

export function domainFiles(xml: string): string[] {
  const { disks, bootFiles } = parse(xml);
  return [...new Set([...disks.map((d) => d.file), ...bootFiles])];
}

/** Every file-backed disk in device order, with whether it is attached read-only. */
export function domainDisks(xml: string): DomainDisk[] {
  return parse(xml).disks;
}

function parse(xml: string): Parsed {
  const disks: DomainDisk[] = [];
  const bootFiles: string[] = [];
  const stack: string[] = [];
  let text = '';
  let disk: { file?: string; readonly: boolean } | undefined;
  const parser = new SaxesParser();
  parser.on('opentag', (tag) => {
    stack.push(tag.name);
    text = '';
    if (tag.name === 'disk' && stack.at(-2) === 'devices') disk = { readonly: false };
    const file = tag.attributes['file'];
    // <disk><source file='…'/>: every disk image, read-only layers included.
    if (disk && tag.name === 'source' && stack.at(-2) === 'disk' && typeof file === 'string') disk.file = file;
    if (disk && tag.name === 'readonly' && stack.at(-2) === 'disk') disk.readonly = true;
  });
  parser.on('text', (t) => {
    text += t;
  });
  parser.on('closetag', (tag) => {
    if ((tag.name === 'kernel' || tag.name === 'initrd') && stack.at(-2) === 'os' && text.trim()) bootFiles.push(text.trim());
    if (tag.name === 'disk' && disk) {
      if (disk.file !== undefined) disks.push({ file: disk.file, readonly: disk.readonly });
      disk = undefined;
    }
    stack.pop();
    text = '';
  });
  parser.write(xml).close();
  return { disks, bootFiles };
}
