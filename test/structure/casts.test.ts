/**
 * The manager's casts (docs/development.md): a route takes its request's types from its schemas,
 * so nothing casts `request.body`, `request.params` or `request.query`; and each `as unknown as`
 * left says why in a comment on the line above.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(join(ROOT, dir), { withFileTypes: true })) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory()) out.push(...(await sources(path)));
    else if (e.isFile() && e.name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** `file:line` of each cast of a request part (`x as T`, `<T>x`, through parentheses too). */
function requestCasts(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const isRequestPart = (node: ts.Expression): boolean => {
    const inner = ts.isParenthesizedExpression(node) ? node.expression : node;
    return (
      ts.isPropertyAccessExpression(inner) &&
      ['body', 'params', 'query'].includes(inner.name.text) &&
      ts.isIdentifier(inner.expression) &&
      /^req(uest)?$/.test(inner.expression.text)
    );
  };
  const visit = (node: ts.Node): void => {
    if ((ts.isAsExpression(node) || ts.isTypeAssertionExpression(node)) && isRequestPart(node.expression)) {
      found.push(`${file}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** `file:line` of each `as unknown as` whose line above is not a comment. */
function unexplainedDoubleCasts(file: string, text: string): string[] {
  const lines = text.split('\n');
  return lines.flatMap((line, i) =>
    line.includes(' as unknown as ') && !/^\s*(\/\/|\*|\/\*)/.test(lines[i - 1] ?? '') ? [`${file}:${i + 1}`] : [],
  );
}

describe("the manager's casts", () => {
  it('none of request parts; every `as unknown as` says why', async () => {
    const files = await sources('manager');
    expect(files.length).toBeGreaterThan(200);
    const texts = await Promise.all(files.map(async (f) => [f, await readFile(join(ROOT, f), 'utf8')] as const));
    expect(texts.flatMap(([f, t]) => requestCasts(f, t))).toEqual([]);
    expect(texts.flatMap(([f, t]) => unexplainedDoubleCasts(f, t))).toEqual([]);
  });

  it('finds the casts it forbids', () => {
    const route =
      "app.post('/x', async (request) => {\n  const b = request.body as { a: string };\n  const p = (request.params as { id: string }).id;\n  const q = <{ n?: number }>req.query;\n  return { ok: request.body };\n});";
    expect(requestCasts('r.ts', route)).toEqual(['r.ts:2', 'r.ts:3', 'r.ts:4']);
    expect(
      unexplainedDoubleCasts('c.ts', 'const a = 1;\nconst b = a as unknown as string;\n// a reason\nconst c = a as unknown as string;'),
    ).toEqual(['c.ts:2']);
  });
});
