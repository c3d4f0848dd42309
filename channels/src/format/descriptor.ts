/**
 * Reads an appliance descriptor from untrusted bytes: guarded parse, then every field checked.
 *
 * @example
 * const bytes = await fetchCapped(item.descriptor.url);
 * const d = parseDescriptor(bytes, { item }); // also checks size, sha256, name and version against the signed feed item
 */
import { createHash } from 'node:crypto';
import { ChanErr } from '../errors.js';
import {
  CONFIG_KEY_PATTERN,
  FIRMWARES,
  IMAGE_FORMATS,
  isCleanText,
  isName,
  isSha256,
  isVersion,
  KERBEROS_SERVICE_PATTERN,
  LAYER_KINDS,
  LIMITS,
  PARAM_NAME_PATTERN,
  PARAMETER_TYPES,
  parseHttpUrl,
  parseReleased,
  parseSize,
  RECORD_NAME_PATTERN,
  RECORD_TYPES,
} from './rules.js';
import { applianceProblems } from './semantics.js';
import type {
  ApplianceDescriptor,
  ConfigItem,
  DataVolume,
  DescriptorImage,
  DescriptorLayer,
  DnsRecord,
  FeedItem,
  FileRef,
  Parameter,
} from './types.js';
import { DESCRIPTOR_NS } from './types.js';
import { type Attrs, type Fail, parseIntIn, readAttrs, readChildren, readText } from './xml-read.js';
import { parseXmlStrict, type XmlElement } from './xml-guard.js';

export const DEFAULT_MAX_DESCRIPTOR_BYTES = 1024 * 1024;

export interface ParseDescriptorOptions {
  /** Byte cap, checked before parsing. Default 1 MiB. */
  readonly maxBytes?: number;
  /** The signed feed item this descriptor was fetched for: size, sha256, name, version and upgradesFrom must match. */
  readonly item?: FeedItem;
}

const PARAM_NAME_RE = new RegExp(PARAM_NAME_PATTERN);
const CONFIG_KEY_RE = new RegExp(CONFIG_KEY_PATTERN);
const RECORD_NAME_RE = new RegExp(RECORD_NAME_PATTERN);
const KERBEROS_SERVICE_RE = new RegExp(KERBEROS_SERVICE_PATTERN);

export function parseDescriptor(input: Uint8Array | string, opts: ParseDescriptorOptions = {}): ApplianceDescriptor {
  const what = opts.item ? `descriptor of ${opts.item.name} ${opts.item.version}` : 'descriptor';
  const fail: Fail = (m) => {
    throw ChanErr.CHAN_ERR_DESCRIPTOR_INVALID(`${what}: ${m}`);
  };
  if (opts.item) checkAgainstItem(input, opts.item, fail);
  const root = parseXmlStrict(input, { what, maxBytes: opts.maxBytes ?? DEFAULT_MAX_DESCRIPTOR_BYTES });
  if (root.uri !== DESCRIPTOR_NS || root.local !== 'appliance')
    fail(`root element must be <appliance xmlns="${DESCRIPTOR_NS}">, found <${root.name}> in ${root.uri || 'no namespace'}`);
  const d = readAppliance(root, fail);
  const problems = applianceProblems({
    ...d,
    layers: d.layers.map((l) => ({ kind: l.kind, hasBoot: l.boot !== undefined })),
    hasImage: d.image !== undefined,
  });
  if (problems.length) fail(problems.join('; '));
  if (opts.item) {
    const it = opts.item;
    if (d.name !== it.name || d.version !== it.version) fail(`describes ${d.name} ${d.version}, the feed item is ${it.name} ${it.version}`);
    if (d.upgradesFrom !== it.upgradesFrom)
      fail(`upgradesFrom ${d.upgradesFrom ?? 'none'} differs from the feed item's ${it.upgradesFrom ?? 'none'}`);
  }
  return d;
}

function checkAgainstItem(input: Uint8Array | string, item: FeedItem, fail: Fail): void {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  if (bytes.byteLength !== item.descriptor.size) fail(`is ${bytes.byteLength} bytes, the signed feed says ${item.descriptor.size}`);
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (sha !== item.descriptor.sha256) fail(`sha256 ${sha} differs from the signed feed's ${item.descriptor.sha256}`);
}

function readAppliance(root: XmlElement, fail: Fail): ApplianceDescriptor {
  const path = '/appliance';
  const a = readAttrs(root, path, ['name', 'version'], fail);
  const name = a.req('name');
  if (!isName(name)) fail(`${a.at('name')}: ${JSON.stringify(name)} is not a valid appliance name`);
  const version = a.req('version');
  if (!isVersion(version)) fail(`${a.at('version')}: ${JSON.stringify(version)} is not a valid version`);
  const c = readChildren(
    root,
    DESCRIPTOR_NS,
    path,
    [
      'title',
      'description',
      'released',
      'upgradesFrom',
      'resources',
      'image',
      'layers',
      'parameters',
      'config',
      'records',
      'principals',
      'dataVolume',
    ],
    fail,
  );
  const text = (local: string, max: number, optional = false): string | undefined => {
    const el = optional ? c.opt(local) : c.one(local);
    if (!el) return undefined;
    const t = readText(el, `${path}/${local}`, fail);
    if (!isCleanText(t, max)) fail(`${path}/${local}: longer than ${max} characters or has control characters`);
    return t;
  };
  const released = text('released', 40) ?? '';
  const date = parseReleased(released);
  if (!date) fail(`${path}/released: ${JSON.stringify(released)} is not a date (YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ)`);
  const upgradesFrom = text('upgradesFrom', 100, true);
  if (upgradesFrom !== undefined && !isVersion(upgradesFrom))
    fail(`${path}/upgradesFrom: ${JSON.stringify(upgradesFrom)} is not a valid version`);
  const res = readAttrs(c.one('resources'), `${path}/resources`, ['memoryMiB', 'vcpus'], fail);
  const memoryMiB = int(res, 'memoryMiB', LIMITS.memoryMiB.min, LIMITS.memoryMiB.max, fail, true) as number;
  const vcpus = int(res, 'vcpus', LIMITS.vcpus.min, LIMITS.vcpus.max, fail, true) as number;
  const list = (local: string, item: string, max: number): { el: XmlElement; path: string }[] => {
    const el = c.opt(local);
    if (!el) return [];
    const items = readChildren(el, DESCRIPTOR_NS, `${path}/${local}`, [item], fail).many(item);
    if (items.length > max) fail(`${path}/${local}: more than ${max} <${item}>`);
    return items.map((e, i) => ({ el: e, path: `${path}/${local}/${item}[${i + 1}]` }));
  };
  const principals = list('principals', 'principal', LIMITS.principals).map((x) => readPrincipal(x.el, x.path, fail));
  const volume = c.opt('dataVolume');
  const dataVolume = volume && readDataVolume(volume, `${path}/dataVolume`, fail);
  const imageEl = c.opt('image');
  const image = imageEl ? readImage(imageEl, `${path}/image`, fail) : undefined;
  return {
    name,
    version,
    title: text('title', LIMITS.titleLength) ?? '',
    description: text('description', LIMITS.textLength) ?? '',
    released,
    ...(upgradesFrom === undefined ? {} : { upgradesFrom }),
    memoryMiB,
    vcpus,
    layers: list('layers', 'layer', LIMITS.layers).map((x) => readLayer(x.el, x.path, fail)),
    ...(image ? { image } : {}),
    parameters: list('parameters', 'parameter', LIMITS.parameters).map((x) => readParameter(x.el, x.path, fail)),
    config: list('config', 'item', LIMITS.configItems).map((x) => readConfigItem(x.el, x.path, fail)),
    records: list('records', 'record', LIMITS.records).map((x) => readRecord(x.el, x.path, fail)),
    ...(principals.length ? { principals } : {}),
    ...(dataVolume ? { dataVolume } : {}),
  };
}

/** The mount point's rules are in `applianceProblems`, shared with the publisher's manifest. */
function readDataVolume(el: XmlElement, path: string, fail: Fail): DataVolume {
  const a = readAttrs(el, path, ['mountPoint', 'minSizeMiB'], fail);
  if (el.children.length || el.text.trim()) fail(`${path}: must be empty`);
  const minSizeMiB = int(a, 'minSizeMiB', LIMITS.dataVolumeMiB.min, LIMITS.dataVolumeMiB.max, fail, true) as number;
  return { mountPoint: a.req('mountPoint'), minSizeMiB };
}

function readPrincipal(el: XmlElement, path: string, fail: Fail): string {
  const a = readAttrs(el, path, ['service'], fail);
  if (el.children.length || el.text.trim()) fail(`${path}: must be empty`);
  const service = a.req('service');
  if (!KERBEROS_SERVICE_RE.test(service)) fail(`${a.at('service')}: ${JSON.stringify(service)} does not match ${KERBEROS_SERVICE_PATTERN}`);
  return service;
}

function readFileRef(a: Attrs, fail: Fail): FileRef {
  const size = parseSize(a.req('size'));
  if (size === undefined) fail(`${a.at('size')}: not a size in bytes`);
  const sha256 = a.req('sha256');
  if (!isSha256(sha256)) fail(`${a.at('sha256')}: not 64 lowercase hex digits`);
  const url = parseHttpUrl(a.req('url'));
  if (url === undefined) fail(`${a.at('url')}: not an absolute http(s) URL`);
  return { url: url as string, size: size as number, sha256 };
}

function readImage(el: XmlElement, path: string, fail: Fail): DescriptorImage {
  const a = readAttrs(el, path, ['format', 'firmware', 'minDiskMiB', 'size', 'sha256', 'url'], fail);
  if (el.children.length || el.text.trim()) fail(`${path}: must be empty`);
  const format = a.req('format');
  if (!(IMAGE_FORMATS as readonly string[]).includes(format))
    fail(`${a.at('format')}: unknown format ${JSON.stringify(format)} (known: ${IMAGE_FORMATS.join(', ')})`);
  const firmware = a.opt('firmware') ?? 'bios';
  if (!(FIRMWARES as readonly string[]).includes(firmware))
    fail(`${a.at('firmware')}: unknown firmware ${JSON.stringify(firmware)} (known: ${FIRMWARES.join(', ')})`);
  const minDiskMiB = int(a, 'minDiskMiB', LIMITS.diskMiB.min, LIMITS.diskMiB.max, fail, true) as number;
  return {
    format: format as DescriptorImage['format'],
    firmware: firmware as DescriptorImage['firmware'],
    minDiskMiB,
    ...readFileRef(a, fail),
  };
}

function readLayer(el: XmlElement, path: string, fail: Fail): DescriptorLayer {
  const a = readAttrs(el, path, ['kind', 'format', 'size', 'sha256', 'url'], fail);
  const kind = a.req('kind');
  if (!(LAYER_KINDS as readonly string[]).includes(kind))
    fail(`${a.at('kind')}: unknown kind ${JSON.stringify(kind)} (known: ${LAYER_KINDS.join(', ')})`);
  if (a.req('format') !== 'squashfs') fail(`${a.at('format')}: unknown format ${JSON.stringify(a.req('format'))} (known: squashfs)`);
  const file = readFileRef(a, fail);
  const c = readChildren(el, DESCRIPTOR_NS, path, ['kernel', 'initrd'], fail);
  const kernel = c.opt('kernel');
  const initrd = c.opt('initrd');
  if ((kernel === undefined) !== (initrd === undefined)) fail(`${path}: kernel and initrd come together`);
  const boot =
    kernel && initrd
      ? {
          kernel: readFileRef(readAttrs(kernel, `${path}/kernel`, ['size', 'sha256', 'url'], fail), fail),
          initrd: readFileRef(readAttrs(initrd, `${path}/initrd`, ['size', 'sha256', 'url'], fail), fail),
        }
      : undefined;
  return { kind: kind as DescriptorLayer['kind'], format: 'squashfs', ...file, ...(boot ? { boot } : {}) };
}

function readParameter(el: XmlElement, path: string, fail: Fail): Parameter {
  const a = readAttrs(el, path, ['name', 'type', 'default', 'pattern', 'min', 'max'], fail);
  const name = a.req('name');
  if (!PARAM_NAME_RE.test(name)) fail(`${a.at('name')}: ${JSON.stringify(name)} does not match ${PARAM_NAME_PATTERN}`);
  const type = a.req('type');
  if (!(PARAMETER_TYPES as readonly string[]).includes(type))
    fail(`${a.at('type')}: unknown type ${JSON.stringify(type)} (known: ${PARAMETER_TYPES.join(', ')})`);
  const c = readChildren(el, DESCRIPTOR_NS, path, ['description'], fail);
  const description = readText(c.one('description'), `${path}/description`, fail);
  if (!isCleanText(description, LIMITS.textLength)) fail(`${path}/description: too long or has control characters`);
  const raw = a.opt('default');
  let dflt: string | number | boolean | undefined = raw;
  if (raw !== undefined && type === 'integer')
    dflt = parseIntIn(raw, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER) ?? fail(`${a.at('default')}: not an integer`);
  if (raw !== undefined && type === 'boolean')
    dflt = raw === 'true' ? true : raw === 'false' ? false : fail(`${a.at('default')}: not true or false`);
  if (typeof dflt === 'string' && !isCleanText(dflt, LIMITS.textLength)) fail(`${a.at('default')}: too long or has control characters`);
  const pattern = a.opt('pattern');
  const min = int(a, 'min', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, fail);
  const max = int(a, 'max', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, fail);
  return {
    name,
    type: type as Parameter['type'],
    description,
    ...(dflt === undefined ? {} : { default: dflt }),
    ...(pattern === undefined ? {} : { pattern }),
    ...(min === undefined ? {} : { min }),
    ...(max === undefined ? {} : { max }),
  };
}

function readConfigItem(el: XmlElement, path: string, fail: Fail): ConfigItem {
  const a = readAttrs(el, path, ['key', 'value', 'description'], fail);
  if (el.children.length || el.text.trim()) fail(`${path}: must be empty`);
  const key = a.req('key');
  if (!CONFIG_KEY_RE.test(key)) fail(`${a.at('key')}: ${JSON.stringify(key)} does not match ${CONFIG_KEY_PATTERN}`);
  const value = a.req('value');
  if (!isCleanText(value, LIMITS.templateLength)) fail(`${a.at('value')}: too long or has control characters`);
  const description = a.opt('description');
  if (description !== undefined && !isCleanText(description, LIMITS.textLength))
    fail(`${a.at('description')}: too long or has control characters`);
  return { key, value, ...(description === undefined ? {} : { description }) };
}

function readRecord(el: XmlElement, path: string, fail: Fail): DnsRecord {
  const a = readAttrs(el, path, ['type', 'name', 'value', 'ttl', 'priority', 'weight', 'port'], fail);
  if (el.children.length || el.text.trim()) fail(`${path}: must be empty`);
  const type = a.req('type');
  if (!(RECORD_TYPES as readonly string[]).includes(type))
    fail(`${a.at('type')}: unknown record type ${JSON.stringify(type)} (known: ${RECORD_TYPES.join(', ')})`);
  const name = a.req('name');
  if (!RECORD_NAME_RE.test(name) || name.length > 253) fail(`${a.at('name')}: ${JSON.stringify(name)} is not a relative DNS name or @`);
  const value = a.req('value');
  if (!isCleanText(value, LIMITS.templateLength) || /[\n\t]/.test(value)) fail(`${a.at('value')}: too long or has control characters`);
  const ttl = int(a, 'ttl', 0, 2_147_483_647, fail);
  const priority = int(a, 'priority', 0, 65535, fail);
  const weight = int(a, 'weight', 0, 65535, fail);
  const port = int(a, 'port', 0, 65535, fail);
  return {
    type: type as DnsRecord['type'],
    name,
    value,
    ...(ttl === undefined ? {} : { ttl }),
    ...(priority === undefined ? {} : { priority }),
    ...(weight === undefined ? {} : { weight }),
    ...(port === undefined ? {} : { port }),
  };
}

function int(a: Attrs, name: string, min: number, max: number, fail: Fail, required = false): number | undefined {
  const raw = required ? a.req(name) : a.opt(name);
  if (raw === undefined) return undefined;
  return parseIntIn(raw, min, max) ?? fail(`${a.at(name)}: ${JSON.stringify(raw)} is not an integer in [${min}, ${max}]`);
}
