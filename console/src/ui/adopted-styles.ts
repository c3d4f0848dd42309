/**
 * xterm.js's DOM renderer styles the terminal with `<style>` elements it fills with text, which
 * the console's Content-Security-Policy refuses (`style-src 'self'`, no 'unsafe-inline', and it
 * stays that way; even an empty one is a reported violation). While `fn` runs, asking for a
 * `<style>` element gives an inert `<template>` instead, whose text goes into a constructed style
 * sheet adopted by the document: CSSOM, which the policy does not govern. xterm only sets the
 * element's text and removes it; the sheet goes with it.
 *
 * @example
 * withAdoptedStyles(document, () => term.open(screen));
 */
export function withAdoptedStyles<T>(doc: Document, fn: () => T): T {
  const create = doc.createElement;
  doc.createElement = function createElement(this: Document, tag: string, options?: ElementCreationOptions): HTMLElement {
    if (tag.toLowerCase() !== 'style') return create.call(this, tag, options);
    const el = create.call(this, 'template');
    adopt(doc, el);
    return el;
  } as typeof doc.createElement;
  try {
    return fn();
  } finally {
    doc.createElement = create;
  }
}

function adopt(doc: Document, el: HTMLElement): void {
  const sheet = new CSSStyleSheet();
  let text = '';
  doc.adoptedStyleSheets = [...doc.adoptedStyleSheets, sheet];
  Object.defineProperty(el, 'textContent', {
    get: () => text,
    set: (value: string | null) => {
      text = value ?? '';
      sheet.replaceSync(text);
    },
  });
  const remove = el.remove.bind(el);
  el.remove = () => {
    doc.adoptedStyleSheets = doc.adoptedStyleSheets.filter((s) => s !== sheet);
    remove();
  };
}
