import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The design notes under docs/design/ are what comments in the code cite ("aws-behaviour.md §4",
// "timings.md row 9", "[S19]"): every citation must land on a section, an item or a source that exists,
// and the notes themselves must name nothing outside the repository.

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DESIGN = 'docs/design';
const notes = readdirSync(join(root, DESIGN)).filter((f) => f.endsWith('.md'));
const note = (name: string) => readFileSync(join(root, DESIGN, name), 'utf8');

function sourceFiles(dir: string): string[] {
  const abs = join(root, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs).flatMap((f) => {
    const path = join(dir, f);
    if (statSync(join(root, path)).isDirectory()) return sourceFiles(path);
    return /\.(ts|js|mjs)$/.test(f) ? [path] : [];
  });
}
const code = ['src', 'test', 'bench', 'scripts'].flatMap(sourceFiles);

/** Section numbers (`## N.`) of a note, and the numbered items (`N.`) inside each. */
function outline(name: string): { sections: Set<string>; items: Map<string, Set<string>> } {
  const sections = new Set<string>();
  const items = new Map<string, Set<string>>();
  let current = '';
  for (const line of note(name).split('\n')) {
    const h = /^## (\d+)\./.exec(line);
    if (h) {
      current = h[1]!;
      sections.add(current);
      items.set(current, new Set());
      continue;
    }
    const item = /^(\d+)\. /.exec(line);
    if (item && current) items.get(current)!.add(item[1]!);
  }
  return { sections, items };
}
const sourceIds = new Set([...note('timings.md').matchAll(/^- \[(S\d+)\] /gm)].map((m) => m[1]!));

interface Citation {
  at: string;
  file: string;
  rest: string;
}

/** Every "docs/design/<note>.md ..." in the code, with the text after it up to the next `)` or `;`. */
const citations: Citation[] = code.flatMap((path) =>
  readFileSync(join(root, path), 'utf8')
    .split('\n')
    .flatMap((line, i) =>
      [...line.matchAll(/docs\/design\/([\w-]+\.md)([^);]*)/g)].map((m) => ({
        at: `${path}:${i + 1}`,
        file: m[1]!,
        rest: m[2]!,
      })),
    ),
);

describe('docs/design/: the notes the code cites', () => {
  it('are cited from the code, and every cited note exists', () => {
    expect(citations.length).toBeGreaterThan(20);
    const missing = citations.filter((c) => !notes.includes(c.file)).map((c) => `${c.at} ${c.file}`);
    expect(missing).toEqual([]);
  });

  it('every §N, §N.M, "§N item M" and "row N" a comment cites exists', () => {
    const bad: string[] = [];
    for (const c of citations) {
      const { sections, items } = outline(c.file);
      for (const m of c.rest.matchAll(/§(\d+)(?:\.(\d+)| item (\d+))?|\brow (\d+)/g)) {
        const section = m[1] ?? m[4]!;
        const item = m[2] ?? m[3];
        if (!sections.has(section)) bad.push(`${c.at}: ${c.file} has no section ${section}`);
        else if (item && !items.get(section)!.has(item))
          bad.push(`${c.at}: ${c.file} §${section} has no item ${item}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('every source id [Sn] in the code is defined in timings.md', () => {
    const bad: string[] = [];
    for (const path of code)
      readFileSync(join(root, path), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          for (const m of line.matchAll(/\[(S\d+)\]/g))
            if (!sourceIds.has(m[1]!)) bad.push(`${path}:${i + 1} ${m[1]}`);
        });
    expect(bad).toEqual([]);
  });

  it.each(notes)(
    '%s: names nothing outside the repository; prose within 120 columns (a lone URL aside); links resolve',
    (name) => {
      const text = note(name);
      expect(text).not.toMatch(/shared\/|aws-facts|delays\.md|style\.md|\/work\//);
      const bad: string[] = [];
      let fenced = false;
      text.split('\n').forEach((line, i) => {
        if (/^\s*```/.test(line)) fenced = !fenced;
        // A line that is one URL cannot be wrapped.
        if (!fenced && line.length > 120 && !/^\s*https:\/\/\S+,?$/.test(line))
          bad.push(`${name}:${i + 1} is ${line.length} columns`);
        for (const m of line.replace(/`[^`]*`/g, '').matchAll(/\]\(([^)\s]+)\)/g)) {
          const target = m[1]!;
          if (/^https:\/\//.test(target)) continue;
          const path = target.split('#')[0]!;
          if (path === '') continue;
          const to = resolve(join(root, DESIGN), path);
          if (!existsSync(to) || relative(root, to).startsWith('..')) bad.push(`${name}:${i + 1} ${target}`);
        }
        for (const m of line.matchAll(/\bhttp:\/\/\S+/g)) bad.push(`${name}:${i + 1} not https: ${m[0]}`);
      });
      expect(bad).toEqual([]);
    },
  );
});
