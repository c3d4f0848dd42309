/**
 * Cross-field rules of an appliance version, checked on the typed value by both sides: the
 * publisher (after the manifest schema) and the subscriber (after reading a descriptor).
 */
import {
  checkPattern,
  checkTemplate,
  compareVersions,
  LAYER_KINDS,
  type LayerKind,
  mountPointProblem,
  RESERVED_KERBEROS_SERVICES,
} from './rules.js';
import type { ConfigItem, DnsRecord, Parameter } from './types.js';
import { compilePattern } from '../../../common/linear-pattern/index.js';

export interface ApplianceShape {
  readonly version: string;
  readonly upgradesFrom?: string | undefined;
  readonly layers: readonly { readonly kind: LayerKind; readonly hasBoot: boolean }[];
  /** A traditional appliance: one disk image and no layers. */
  readonly hasImage?: boolean;
  readonly parameters: readonly Parameter[];
  readonly config: readonly ConfigItem[];
  readonly records: readonly DnsRecord[];
  readonly principals?: readonly string[] | undefined;
  readonly dataVolume?: { readonly mountPoint: string } | undefined;
}

/** Every cross-field problem, each as `path: message` (paths like `/layers/1/kind`). */
export function applianceProblems(a: ApplianceShape): string[] {
  const problems: string[] = [];
  if (a.upgradesFrom !== undefined && compareVersions(a.upgradesFrom, a.version) >= 0) {
    problems.push(`/upgradesFrom: ${a.upgradesFrom} is not older than ${a.version}`);
  }
  if (a.hasImage) {
    if (a.layers.length) problems.push('/layers: a traditional appliance has its image and no layers');
    // Its guest mounts nothing STORM tells it yet: an administrator attaches one (storm volume attach).
    if (a.dataVolume)
      problems.push('/dataVolume: a traditional appliance declares no data volume yet; attach one with storm volume attach');
  } else problems.push(...layerProblems(a.layers));
  problems.push(...parameterProblems(a.parameters));
  const names = a.parameters.map((p) => p.name);
  problems.push(
    ...uniqueProblems(
      a.config.map((c) => c.key),
      '/config',
      'key',
    ),
  );
  a.config.forEach((c, i) => {
    const p = checkTemplate(c.value, names);
    if (p) problems.push(`/config/${i}/value: ${p}`);
  });
  for (const [i, r] of a.records.entries()) problems.push(...recordProblems(r, `/records/${i}`, names));
  const principals = a.principals ?? [];
  problems.push(
    ...uniqueProblems(
      principals.map((s) => s.toLowerCase()),
      '/principals',
      'service',
    ),
  );
  principals.forEach((s, i) => {
    if ((RESERVED_KERBEROS_SERVICES as readonly string[]).includes(s.toLowerCase()))
      problems.push(`/principals/${i}: ${s} is reserved (every instance has host/; krbtgt, kadmin and K belong to the KDC)`);
  });
  const mount = a.dataVolume && mountPointProblem(a.dataVolume.mountPoint);
  if (mount) problems.push(`/dataVolume/mountPoint: ${mount}`);
  return problems;
}

function layerProblems(layers: ApplianceShape['layers']): string[] {
  const problems: string[] = [];
  if (layers.length === 0) return ['/layers: at least the os layer is required'];
  if (layers[0]?.kind !== 'os') problems.push('/layers/0/kind: the bottom layer must be the os layer');
  layers.forEach((l, i) => {
    if (i > 0 && l.kind === 'os') problems.push(`/layers/${i}/kind: only one os layer, at the bottom`);
    const prev = layers[i - 1];
    if (prev && LAYER_KINDS.indexOf(l.kind) < LAYER_KINDS.indexOf(prev.kind)) {
      problems.push(`/layers/${i}/kind: ${l.kind} cannot sit above ${prev.kind} (order is os, appliance, deployment)`);
    }
    if (l.kind === 'os' && !l.hasBoot) problems.push(`/layers/${i}: the os layer must name its kernel and initrd`);
    if (l.kind !== 'os' && l.hasBoot) problems.push(`/layers/${i}: only the os layer has a kernel and initrd`);
  });
  return problems;
}

function parameterProblems(params: readonly Parameter[]): string[] {
  const problems = uniqueProblems(
    params.map((p) => p.name),
    '/parameters',
    'name',
  );
  params.forEach((p, i) => {
    const at = `/parameters/${i}`;
    if (p.pattern !== undefined && p.type !== 'string') problems.push(`${at}/pattern: only string parameters have a pattern`);
    if ((p.min !== undefined || p.max !== undefined) && p.type !== 'integer')
      problems.push(`${at}: only integer parameters have min and max`);
    if (p.min !== undefined && p.max !== undefined && p.min > p.max) problems.push(`${at}: min ${p.min} is above max ${p.max}`);
    const patternProblem = p.pattern === undefined ? undefined : checkPattern(p.pattern);
    if (patternProblem) problems.push(`${at}/pattern: ${patternProblem}`);
    if (p.default !== undefined) {
      const d = defaultProblem(p, patternProblem === undefined);
      if (d) problems.push(`${at}/default: ${d}`);
    }
  });
  return problems;
}

function defaultProblem(p: Parameter, patternUsable: boolean): string | undefined {
  const d = p.default;
  switch (p.type) {
    case 'string':
      if (typeof d !== 'string') return 'must be a string';
      if (p.pattern !== undefined && patternUsable && !compilePattern(p.pattern).test(d)) return `does not match pattern ${p.pattern}`;
      return undefined;
    case 'integer':
      if (typeof d !== 'number' || !Number.isSafeInteger(d)) return 'must be an integer';
      if ((p.min !== undefined && d < p.min) || (p.max !== undefined && d > p.max)) return `${d} is outside min/max`;
      return undefined;
    case 'boolean':
      return typeof d === 'boolean' ? undefined : 'must be true or false';
  }
}

function recordProblems(r: DnsRecord, at: string, params: readonly string[]): string[] {
  const problems: string[] = [];
  const t = checkTemplate(r.value, params);
  if (t) problems.push(`${at}/value: ${t}`);
  const needs = r.type === 'MX' ? ['priority'] : r.type === 'SRV' ? ['priority', 'weight', 'port'] : [];
  for (const f of ['priority', 'weight', 'port'] as const) {
    const has = r[f] !== undefined;
    if (needs.includes(f) && !has) problems.push(`${at}/${f}: required for ${r.type} records`);
    if (!needs.includes(f) && has) problems.push(`${at}/${f}: not allowed for ${r.type} records`);
  }
  return problems;
}

function uniqueProblems(values: readonly string[], at: string, field: string): string[] {
  const seen = new Set<string>();
  const problems: string[] = [];
  values.forEach((v, i) => {
    if (seen.has(v)) problems.push(`${at}/${i}/${field}: ${v} is declared twice`);
    seen.add(v);
  });
  return problems;
}
