/** Strict readers over the guarded XML tree: unknown attributes, children or stray text are errors. */
import type { XmlElement } from './xml-guard.js';

/** Throws the caller's CHAN_ERR_* error with a path such as `/appliance/layers/layer[1]/@size`. */
export type Fail = (message: string) => never;

export interface Attrs {
  req(name: string): string;
  opt(name: string): string | undefined;
  at(name: string): string;
}

export function readAttrs(el: XmlElement, path: string, allowed: readonly string[], fail: Fail): Attrs {
  for (const key of el.attributes.keys()) {
    if (!allowed.includes(key)) fail(`${path}: unexpected attribute ${key}`);
  }
  return {
    req: (name) => el.attributes.get(name) ?? fail(`${path}: missing attribute ${name}`),
    opt: (name) => el.attributes.get(name),
    at: (name) => `${path}/@${name}`,
  };
}

export interface Children {
  one(local: string): XmlElement;
  opt(local: string): XmlElement | undefined;
  many(local: string): XmlElement[];
}

/** The element-only content of `el`: children in `ns` named in `allowed`, and whitespace. */
export function readChildren(el: XmlElement, ns: string, path: string, allowed: readonly string[], fail: Fail): Children {
  if (el.text.trim() !== '') fail(`${path}: unexpected text`);
  for (const c of el.children) {
    if (c.uri !== ns || !allowed.includes(c.local))
      fail(`${path}: unexpected element <${c.name}>${c.uri !== ns ? ` (namespace ${c.uri || 'none'})` : ''}`);
  }
  const all = (local: string): XmlElement[] => el.children.filter((c) => c.local === local);
  const opt = (local: string): XmlElement | undefined => {
    const found = all(local);
    if (found.length > 1) fail(`${path}: <${local}> appears ${found.length} times`);
    return found[0];
  };
  return {
    one: (local) => opt(local) ?? fail(`${path}: missing <${local}>`),
    opt,
    many: all,
  };
}

/** A leaf's text, trimmed: no attributes and no child elements. */
export function readText(el: XmlElement, path: string, fail: Fail): string {
  if (el.attributes.size) fail(`${path}: unexpected attribute ${[...el.attributes.keys()][0]}`);
  if (el.children.length) fail(`${path}: unexpected element <${el.children[0]?.name}>`);
  return el.text.trim();
}

/** A decimal integer within [min, max]. */
export function parseIntIn(s: string, min: number, max: number): number | undefined {
  if (!/^-?(0|[1-9][0-9]{0,15})$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined;
}
