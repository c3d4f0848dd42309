/**
 * The host files a domain's XML points at (disk sources, kernel, initrd), so the layer store can
 * refuse to delete a file a defined domain still uses. The XML is libvirt's own answer; saxes
 * parses it without expanding entities.
 *
 * @example
 * domainFiles(await driver.xml('storm-i1')); // ['/d/layers/<sha>', '/d/instances/i1/instance.qcow2', …]
 */
import { SaxesParser } from 'saxes';

export function domainFiles(xml: string): string[] {
  const files = new Set<string>();
  const stack: string[] = [];
  let text = '';
  const parser = new SaxesParser();
  parser.on('opentag', (tag) => {
    stack.push(tag.name);
    text = '';
    const file = tag.attributes['file'];
    // <disk><source file='…'/>: every disk image, read-only layers included.
    if (tag.name === 'source' && stack.at(-2) === 'disk' && typeof file === 'string') files.add(file);
  });
  parser.on('text', (t) => {
    text += t;
  });
  parser.on('closetag', (tag) => {
    if ((tag.name === 'kernel' || tag.name === 'initrd') && stack.at(-2) === 'os' && text.trim()) files.add(text.trim());
    stack.pop();
    text = '';
  });
  parser.write(xml).close();
  return [...files];
}
