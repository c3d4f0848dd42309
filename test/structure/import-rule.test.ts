/**
 * The import rule between programs (docs/development.md): the manager, stormd, the CLI and the web
 * console import each other only through the shared wire types (`manager/protocol/`,
 * `stormd/protocol.ts`), which bring no code of their program along (they import code only from
 * `typebox` and themselves, types from their own program); the CLI and the console take the
 * manager's as types only. Shared code lives outside the programs (`trust/`, `common/`,
 * `channels/src/format/`). Every import of every file, tests included: static, re-exports,
 * `import()` calls and `import('…')` types.
 */
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const PROGRAMS = ['manager', 'stormd', 'cli', 'console'] as const;
/** What a program offers the others: its wire types. */
const DOORS: readonly RegExp[] = [/^manager\/protocol\//, /^stormd\/protocol\.ts$/];
/** The programs that are clients of the manager's API: its wire types reach them as types only. */
const CLIENTS: readonly string[] = ['cli', 'console'];
/** The only package a door may import. */
const DOOR_PACKAGES: readonly string[] = ['typebox'];

const programOf = (path: string) => PROGRAMS.find((p) => path.startsWith(`${p}/`));

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(join(ROOT, dir), { withFileTypes: true })) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory() && e.name !== 'node_modules' && e.name !== 'dist') out.push(...(await sources(path)));
    else if (e.isFile() && /\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

interface Import {
  /** The imported file's repository path (`.js` written for `.ts`, as ESM wants), or the package's name. */
  readonly target: string;
  /** A package (`typebox`, `node:fs`), not a file of the repository. */
  readonly isPackage: boolean;
  /** `import type`, `export type`, `import('…').T`: nothing of the target runs in the importer. */
  readonly typeOnly: boolean;
}

/** Every import of `file`: static, re-exports, `import()` calls and `import('…')` types. */
function importsOf(file: string, text: string): Import[] {
  const found: { spec: string; typeOnly: boolean }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const named = clause?.namedBindings && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings.elements : undefined;
      const typeOnly = !!clause && (clause.isTypeOnly || (!clause.name && !!named && named.length > 0 && named.every((e) => e.isTypeOnly)));
      found.push({ spec: node.moduleSpecifier.text, typeOnly });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const named = node.exportClause && ts.isNamedExports(node.exportClause) ? node.exportClause.elements : undefined;
      found.push({
        spec: node.moduleSpecifier.text,
        typeOnly: node.isTypeOnly || (!!named && named.length > 0 && named.every((e) => e.isTypeOnly)),
      });
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      found.push({ spec: node.argument.literal.text, typeOnly: true });
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      found.push({ spec: node.arguments[0].text, typeOnly: false });
    }
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, file.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS));
  return found.map((f) =>
    f.spec.startsWith('.')
      ? {
          target: relative(ROOT, resolve(ROOT, dirname(file), f.spec))
            .replace(/\.js$/, '.ts')
            .replace(/\.jsx$/, '.tsx'),
          isPackage: false,
          typeOnly: f.typeOnly,
        }
      : { target: f.spec, isPackage: true, typeOnly: f.typeOnly },
  );
}

const doorOf = (path: string) => DOORS.find((door) => door.test(path));

/**
 * `from → to` for every import that crosses from one program into another's internals, from a
 * client into the manager's wire types as a value, or out of a door to code other than its own and
 * `typebox` (a door that brought its program's code along would let the rest cross with it).
 */
function forbiddenArrows(files: ReadonlyMap<string, string>): string[] {
  const arrows: string[] = [];
  for (const [file, text] of files) {
    const from = programOf(file);
    if (!from) continue;
    const door = doorOf(file);
    for (const { target, isPackage, typeOnly } of importsOf(file, text)) {
      if (door) {
        // Types of its own program may be named (nothing of them runs); code only from the door itself and typebox.
        const allowed = isPackage ? DOOR_PACKAGES.includes(target) : doorOf(target) === door || (typeOnly && programOf(target) === from);
        if (!allowed) arrows.push(`${file} → ${target} (out of a door)`);
        continue;
      }
      const to = isPackage ? undefined : programOf(target);
      if (!to || to === from) continue;
      if (!doorOf(target)) arrows.push(`${file} → ${target}`);
      else if (CLIENTS.includes(from) && !typeOnly) arrows.push(`${file} → ${target} (not as types)`);
    }
  }
  return arrows;
}

describe('the import rule between programs', () => {
  it('no program reaches into another: only manager/protocol/ and stormd/protocol.ts cross, and they bring nothing along', async () => {
    const files = new Map<string, string>();
    for (const program of PROGRAMS) for (const file of await sources(program)) files.set(file, await readFile(join(ROOT, file), 'utf8'));
    expect(files.size).toBeGreaterThan(300);
    expect(forbiddenArrows(files)).toEqual([]);
  });

  it('sees every kind of import, and only the doors pass', () => {
    const files = new Map([
      [
        'cli/src/a.ts',
        "import type { X } from '../../manager/src/instances/instance-view.js';\nimport { Y } from '../../manager/protocol/index.js';",
      ],
      [
        'console/src/b.tsx',
        "export type { Z } from '../../stormd/src/hypervisor/driver.js';\nimport { type S } from '../../stormd/protocol.js';\nexport type * from '../../manager/protocol/index.js';",
      ],
      ['manager/src/c.ts', "const m = await import('../../stormd/src/serve.js');\nimport { T } from '../../trust/index.js';"],
      ['stormd/src/d.ts', "type V = import('../../cli/src/views.js').InstanceList;"],
      ['manager/src/e.test.ts', "import { checkParam } from '../../console/src/launch/validate-param.js';"],
      ['test/f.ts', "import { buildApp } from '../manager/src/app.js';"],
      ['manager/src/g.ts', "import { SERIAL_ATTACH_PATH } from '../../stormd/protocol.js';"],
      [
        'manager/protocol/h.ts',
        "import Type from 'typebox';\nimport { List } from './common.js';\nimport { MgrErr } from '../src/errors.js';\nimport type { MgrErrCode } from '../src/errors.js';\nimport { readFile } from 'node:fs/promises';",
      ],
      ['stormd/protocol.ts', "import type { Nullable } from '../manager/protocol/common.js';"],
    ]);
    expect(forbiddenArrows(files)).toEqual([
      'cli/src/a.ts → manager/src/instances/instance-view.ts',
      'cli/src/a.ts → manager/protocol/index.ts (not as types)',
      'console/src/b.tsx → stormd/src/hypervisor/driver.ts',
      'manager/src/c.ts → stormd/src/serve.ts',
      'stormd/src/d.ts → cli/src/views.ts',
      'manager/src/e.test.ts → console/src/launch/validate-param.ts',
      'manager/protocol/h.ts → manager/src/errors.ts (out of a door)',
      'manager/protocol/h.ts → node:fs/promises (out of a door)',
      'stormd/protocol.ts → manager/protocol/common.ts (out of a door)',
    ]);
  });
});
