/**
 * The value rules of the channel format, shared by the manifest schema (publisher side) and the
 * feed and descriptor readers (subscriber side), so both sides accept exactly the same values.
 */
import { patternProblem } from '../../../common/linear-pattern/index.js';

/** Appliance names: lowercase DNS-label style, safe in URLs, paths and domain names. */
export const NAME_PATTERN = '^[a-z][a-z0-9-]{0,62}$';
/** Versions: semver core with an optional pre-release; no build metadata. */
export const VERSION_PATTERN = '^(0|[1-9][0-9]{0,8})\\.(0|[1-9][0-9]{0,8})\\.(0|[1-9][0-9]{0,8})(-[0-9A-Za-z]+(\\.[0-9A-Za-z]+){0,7})?$';
export const SHA256_PATTERN = '^[0-9a-f]{64}$';
/** Parameter names and config-item keys. */
export const PARAM_NAME_PATTERN = '^[a-z][a-zA-Z0-9_]{0,62}$';
export const CONFIG_KEY_PATTERN = '^[A-Za-z_][A-Za-z0-9_.-]{0,127}$';
/** DNS record owner names relative to the instance's zone; `@` is the instance's own name. */
export const RECORD_NAME_PATTERN = '^(@|\\*|(\\*\\.)?[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*)$';
/** Kerberos services an appliance asks principals for (`HTTP`, `smtp`, `imap`): `<service>/<fqdn>@REALM`. */
export const KERBEROS_SERVICE_PATTERN = '^[A-Za-z][A-Za-z0-9-]{0,31}$';
/** Services no descriptor may declare: every instance has host/, and the others are the KDC's own. */
export const RESERVED_KERBEROS_SERVICES = ['host', 'krbtgt', 'kadmin', 'k'] as const;
/** `released` dates: a day, or a UTC second. */
export const RELEASED_PATTERN = '^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)?$';

export const LAYER_KINDS = ['os', 'appliance', 'deployment'] as const;
export type LayerKind = (typeof LAYER_KINDS)[number];
/** Disk formats a traditional (kind image) appliance's disk image may have; stated, never probed. */
export const IMAGE_FORMATS = ['qcow2', 'raw'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];
/** How a traditional appliance boots: BIOS, or UEFI where the host has OVMF. */
export const FIRMWARES = ['bios', 'uefi'] as const;
export type Firmware = (typeof FIRMWARES)[number];
export const PARAMETER_TYPES = ['string', 'integer', 'boolean'] as const;
export type ParameterType = (typeof PARAMETER_TYPES)[number];
export const RECORD_TYPES = ['A', 'AAAA', 'CNAME', 'MX', 'TXT', 'SRV'] as const;
export type RecordType = (typeof RECORD_TYPES)[number];
/** Values a template may name besides the appliance's own parameters. */
export const INSTANCE_VARIABLES = ['instance.name', 'instance.fqdn', 'instance.domain', 'instance.ip', 'instance.mac'] as const;

export const LIMITS = {
  textLength: 4096,
  titleLength: 200,
  patternLength: 256,
  templateLength: 1024,
  memoryMiB: { min: 16, max: 1_048_576 },
  vcpus: { min: 1, max: 256 },
  /** A traditional appliance's disk, in MiB: 1 MiB to 64 TiB. */
  diskMiB: { min: 1, max: 67_108_864 },
  layers: 16,
  parameters: 64,
  configItems: 256,
  records: 64,
  principals: 16,
  /** A declared data volume's minimum size (STORM's volumes are 8 MiB to 16 TiB). */
  dataVolumeMiB: { min: 8, max: 16 * 1024 * 1024 },
  items: 10_000,
} as const;

const re = (p: string): RegExp => new RegExp(p);
const NAME_RE = re(NAME_PATTERN);
const VERSION_RE = re(VERSION_PATTERN);
const SHA256_RE = re(SHA256_PATTERN);
const RELEASED_RE = re(RELEASED_PATTERN);

export const isName = (s: string): boolean => NAME_RE.test(s);
export const isVersion = (s: string): boolean => VERSION_RE.test(s);
export const isSha256 = (s: string): boolean => SHA256_RE.test(s);

/** A size in bytes: a non-negative safe integer written in plain decimal. */
export function parseSize(s: string): number | undefined {
  if (!/^(0|[1-9][0-9]{0,15})$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** An absolute http(s) URL without credentials; returns its normalized form. */
export function parseHttpUrl(s: string): string | undefined {
  if (s.length > 2048 || /[\s<>"\\]/.test(s)) return undefined;
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.username || url.password || !url.hostname) return undefined;
  return url.href;
}

/** The `released` value as a Date, or undefined when it is not a real calendar date. */
export function parseReleased(s: string): Date | undefined {
  if (!RELEASED_RE.test(s)) return undefined;
  const iso = s.length === 10 ? `${s}T00:00:00Z` : s;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) || d.toISOString().slice(0, 19) !== iso.slice(0, 19) ? undefined : d;
}

/** A feed's publication time (`storm:published`): ISO 8601 UTC to the second, `YYYY-MM-DDThh:mm:ssZ`. */
export function parsePublished(s: string): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(s)) return undefined;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) || d.toISOString().slice(0, 19) !== s.slice(0, 19) ? undefined : d;
}

/** Semver precedence of two versions matching VERSION_PATTERN: negative, zero or positive. */
export function compareVersions(a: string, b: string): number {
  const [coreA = '', preA] = splitOnce(a, '-');
  const [coreB = '', preB] = splitOnce(b, '-');
  const na = coreA.split('.').map(Number);
  const nb = coreB.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (na[i] ?? 0) - (nb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  if (preA === undefined || preB === undefined) return preA === preB ? 0 : preA === undefined ? 1 : -1;
  const pa = preA.split('.');
  const pb = preB.split('.');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined || y === undefined) return x === undefined ? -1 : 1;
    if (x === y) continue;
    const xn = /^[0-9]+$/.test(x);
    const yn = /^[0-9]+$/.test(y);
    if (xn && yn) return Math.sign(Number(x) - Number(y));
    if (xn !== yn) return xn ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

/** The names a template refers to (`{{name}}`), or an error message when it is malformed. */
export function templateNames(template: string): string[] | { error: string } {
  const names: string[] = [];
  const stripped = template.replace(/\{\{\s*([A-Za-z0-9_.]+)\s*\}\}/g, (_m, name: string) => {
    names.push(name);
    return '';
  });
  if (stripped.includes('{{') || stripped.includes('}}')) return { error: 'unbalanced or malformed {{…}} placeholder' };
  return names;
}

/**
 * Checks a template's placeholders against the declared parameters and the instance variables.
 * @returns a problem description, or undefined when the template is valid
 */
export function checkTemplate(template: string, parameters: readonly string[]): string | undefined {
  const names = templateNames(template);
  if (!Array.isArray(names)) return names.error;
  const unknown = names.find((n) => !parameters.includes(n) && !(INSTANCE_VARIABLES as readonly string[]).includes(n));
  return unknown === undefined
    ? undefined
    : `placeholder {{${unknown}}} names no parameter and no instance variable (${INSTANCE_VARIABLES.join(', ')})`;
}

/**
 * Checks a parameter's validation pattern: short, and runnable by the linear-time engine every
 * subscriber tests values with (ECMAScript syntax, `u` flag; no backreferences or lookaround).
 * @returns a problem description, or undefined when the pattern is usable
 */
export function checkPattern(pattern: string): string | undefined {
  if (pattern.length > LIMITS.patternLength) return `pattern longer than ${LIMITS.patternLength} characters`;
  const problem = patternProblem(pattern);
  return problem === undefined ? undefined : `pattern ${problem}`;
}

/** Printable text without control characters other than newline and tab. */
export function isCleanText(s: string, max: number): boolean {
  // eslint-disable-next-line no-control-regex
  return s.length <= max && !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(s);
}

/** Where no data volume may be mounted: the root and the folders the guest's system lives in. */
const SYSTEM_FOLDERS = ['/bin', '/boot', '/dev', '/etc', '/lib', '/lib64', '/proc', '/run', '/sbin', '/sys', '/usr'];

/** Why `p` is no mount point for a data volume: absolute, plain segments of `[A-Za-z0-9._-]`, no `.` or `..`. */
export function mountPointProblem(p: string): string | undefined {
  if (p.length > 255) return 'longer than 255 characters';
  if (!/^(\/[A-Za-z0-9._-]+)+$/.test(p)) return `${JSON.stringify(p)} is not an absolute path of [A-Za-z0-9._-] segments`;
  if (p.split('/').some((seg) => seg === '.' || seg === '..')) return `${JSON.stringify(p)} has a . or .. segment`;
  const system = SYSTEM_FOLDERS.find((f) => p === f || p.startsWith(`${f}/`));
  if (system) return `${JSON.stringify(p)} is in the guest's system (${system})`;
  return undefined;
}
