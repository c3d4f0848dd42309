/** Renders an appliance descriptor; the output is a pure function of its input (byte-stable). */
import { create } from 'xmlbuilder2';
import { type ApplianceDescriptor, DESCRIPTOR_NS, type FileRef } from './types.js';

type XMLBuilder = ReturnType<typeof create>;

/** The descriptor as UTF-8 XML bytes. */
export function renderDescriptor(d: ApplianceDescriptor): Buffer {
  const doc = create({ version: '1.0', encoding: 'UTF-8' });
  const root = doc.ele(DESCRIPTOR_NS, 'appliance', { name: d.name, version: d.version });
  root.ele('title').txt(d.title);
  root.ele('description').txt(d.description);
  root.ele('released').txt(d.released);
  if (d.upgradesFrom !== undefined) root.ele('upgradesFrom').txt(d.upgradesFrom);
  root.ele('resources', { memoryMiB: String(d.memoryMiB), vcpus: String(d.vcpus) });
  if (d.image) {
    const i = d.image;
    root.ele('image', { format: i.format, firmware: i.firmware, minDiskMiB: String(i.minDiskMiB), ...fileAttrs(i) });
  }
  const layers = d.layers.length || !d.image ? root.ele('layers') : undefined;
  for (const l of d.layers) {
    if (!layers) break;
    const el = layers.ele('layer', { kind: l.kind, format: l.format, ...fileAttrs(l) });
    if (l.boot) {
      el.ele('kernel', fileAttrs(l.boot.kernel));
      el.ele('initrd', fileAttrs(l.boot.initrd));
    }
  }
  if (d.parameters.length) {
    const params = root.ele('parameters');
    for (const p of d.parameters) {
      const el = params.ele(
        'parameter',
        compact({ name: p.name, type: p.type, default: p.default, pattern: p.pattern, min: p.min, max: p.max }),
      );
      el.ele('description').txt(p.description);
    }
  }
  if (d.config.length) {
    const config = root.ele('config');
    for (const c of d.config) config.ele('item', compact({ key: c.key, value: c.value, description: c.description }));
  }
  if (d.records.length) {
    const records = root.ele('records');
    for (const r of d.records)
      records.ele(
        'record',
        compact({ type: r.type, name: r.name, value: r.value, ttl: r.ttl, priority: r.priority, weight: r.weight, port: r.port }),
      );
  }
  if (d.principals?.length) {
    const principals = root.ele('principals');
    for (const service of d.principals) principals.ele('principal', { service });
  }
  if (d.dataVolume) root.ele('dataVolume', { mountPoint: d.dataVolume.mountPoint, minSizeMiB: String(d.dataVolume.minSizeMiB) });
  return finish(doc);
}

function fileAttrs(f: FileRef): Record<string, string> {
  return { size: String(f.size), sha256: f.sha256, url: f.url };
}

/** Attributes in the given order, leaving out undefined ones, every value as a string. */
export function compact(attrs: Record<string, string | number | boolean | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) out[k] = String(v);
  return out;
}

/** Serializes with two-space indentation and a final newline. */
export function finish(doc: XMLBuilder): Buffer {
  return Buffer.from(`${doc.end({ prettyPrint: true, indent: '  ', newline: '\n' })}\n`, 'utf8');
}
