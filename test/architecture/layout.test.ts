import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The house rules of docs/architecture.md that a linter cannot state: no import circle (value,
// type or lazy `import()`), nothing loose at the top of src/, and a long file says why it is long.

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const MAX_LINES = 500;

function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Modules of src/ a file imports: static, `export ... from` and `import()`, type-only included. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out = new Set<string>();
  for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)'(\.\.?\/[^']+)\.js'/g))
    out.add(join(dirname(file), `${m[1]}.ts`));
  return [...out];
}

/** Strongly connected components with more than one module, or a module importing itself. */
function circles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || graph.get(v)!.includes(v)) found.push(scc.map((f) => relative(SRC, f)).sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('the layout of src/', () => {
  const files = sourceFiles();

  it('has no import circle', () => {
    const graph = new Map(files.map((f) => [f, importsOf(f)]));
    expect(circles(graph)).toEqual([]);
  });

  it('has only folders at its top (the entry point is src/cli/main.ts)', () => {
    const loose = readdirSync(SRC).filter((e) => !statSync(join(SRC, e)).isDirectory());
    expect(loose).toEqual([]);
  });

  it(`says at the top of a file over ${MAX_LINES} lines why it is long`, () => {
    const unexplained = files
      .map((f) => ({ f: relative(SRC, f), lines: readFileSync(f, 'utf8').split('\n') }))
      .filter(({ lines }) => lines.length > MAX_LINES && !/^\/\/ Long file: \S/.test(lines[0] ?? ''))
      .map(({ f, lines }) => `src/${f} (${lines.length} lines)`);
    expect(unexplained, 'start such a file with "// Long file: <why it is one file>"').toEqual([]);
  });
});
