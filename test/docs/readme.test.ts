import { copyFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { SAMPLE_COMMANDS } from '../../scripts/readme-samples.js';
import { generatedSections, replaceSections } from '../../src/config/doc-sections.js';
import { Harness } from '../support/harness.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
};
/** README.md and every page of docs/, by path from the repository root. */
const files = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const text = (file: string) => readFileSync(join(root, file), 'utf8');

interface Block {
  lang: string;
  lines: string[];
}

/** A Markdown file split into its fenced code blocks and the lines outside them (numbered from 1). */
function parse(file: string): { prose: Array<[number, string]>; blocks: Block[] } {
  const prose: Array<[number, string]> = [];
  const blocks: Block[] = [];
  let block: Block | undefined;
  text(file)
    .split('\n')
    .forEach((line, i) => {
      const fence = /^\s*```(\S*)/.exec(line);
      if (fence) {
        if (block) {
          blocks.push(block);
          block = undefined;
        } else block = { lang: fence[1]!, lines: [] };
      } else if (block) block.lines.push(line);
      else prose.push([i + 1, line]);
    });
  return { prose, blocks };
}

/** Lines outside code, with inline code spans removed (links and URLs there are not links). */
const proseWithoutCode = (file: string) =>
  parse(file).prose.map(([n, l]) => [n, l.replace(/`[^`]*`/g, '``')] as const);

const AWS_HOSTS = /^(docs\.aws\.amazon\.com|aws\.amazon\.com)$/;

/**
 * What a page asks the reader to have done before its commands (the drill, teardown, state and
 * switch pages are read after `up`).
 */
const SETUP: Record<string, string[][]> = {
  'docs/drill.md': [['up']],
  'docs/switch.md': [['up']],
  'docs/teardown.md': [['up']],
  'docs/state.md': [['up']],
};

/**
 * A page whose commands run with its own config: the first `json` block that names `openapi` is
 * written as drctl.config.json, beside a copy of the sample file it names (examples/).
 */
const PAGE_CONFIG = new Set(['docs/your-own-api.md']);

function writePageConfig(file: string, h: Harness): void {
  const block = parse(file).blocks.find((b) => b.lang === 'json' && b.lines.join('\n').includes('"openapi"'));
  const config = JSON.parse(block!.lines.join('\n')) as { api: { openapi: string } };
  copyFileSync(join(root, 'examples', config.api.openapi), join(h.dir, config.api.openapi));
  h.writeConfig(config);
}

/** The AWS CLI commands the docs may show: they are not run (no AWS here), only recognised. */
const AWS_CLI = [/^aws sts get-caller-identity$/, /^aws sso login --profile \S+$/, /^aws iam create-policy /];

describe('README and docs/', () => {
  const readme = text('README.md');

  it('opens with the two commands a newcomer needs', () => {
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)![1]!;
    expect(firstBlock).toMatch(/^npm ci && npx drctl/m);
    expect(firstBlock).toMatch(/^npm test/m);
  });

  it('keeps the README short: a manual, with the depth in docs/', () => {
    expect(readme.split('\n').length).toBeLessThan(120);
  });

  it('its generated sections match the code (run `npm run docs` to refresh them)', async () => {
    for (const [file, sections] of Object.entries(await generatedSections()))
      expect(replaceSections(text(file), sections, file), file).toBe(text(file));
  });

  it.each(files)('%s: no line outside code blocks is over 120 characters', (file) => {
    const long = parse(file)
      .prose.filter(([, l]) => l.length > 120)
      .map(([n, l]) => `${file}:${n} (${l.length})`);
    expect(long).toEqual([]);
  });

  it.each(files)('%s: every link is a file of this repository or an AWS page', (file) => {
    const bad: string[] = [];
    for (const [n, line] of proseWithoutCode(file)) {
      for (const m of line.matchAll(/\]\(([^)\s]+)\)|<(https?:[^>]+)>|(?<![(<])\b(https?:\/\/[^\s)>]+)/g)) {
        const target = m[1] ?? m[2] ?? m[3]!;
        if (/^[a-z]+:/i.test(target)) {
          const url = new URL(target);
          if (url.protocol !== 'https:' || !AWS_HOSTS.test(url.hostname)) bad.push(`${file}:${n} ${target}`);
          continue;
        }
        const path = target.split('#')[0]!;
        if (path === '') continue; // an anchor in the same page
        const to = resolve(join(root, dirname(file)), path);
        if (!existsSync(to) || relative(root, to).startsWith('..')) bad.push(`${file}:${n} ${target}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it.each(files)('%s: names nothing outside the repository (no shared/, no design notes)', (file) => {
    expect(text(file)).not.toMatch(/shared\/|aws-facts|delays\.md|\/work\//);
  });

  it.each(files)('%s: every `$ drctl ...` sample is one scripts/readme-samples.ts runs', (file) => {
    const known = new Set(SAMPLE_COMMANDS.map((c) => c.join(' ')));
    const samples = parse(file)
      .blocks.filter((b) => b.lang === 'text')
      .flatMap((b) => b.lines.filter((l) => l.startsWith('$ drctl ')).map((l) => l.slice('$ drctl '.length)));
    expect(samples.filter((s) => !known.has(s.trim()))).toEqual([]);
  });

  describe('every command in a sh block runs as shown (drctl on the fake cloud, in order)', () => {
    const harnesses: Harness[] = [];
    afterAll(() => harnesses.forEach((h) => h.cleanup()));

    it.each(files)('%s', async (file) => {
      const commands = parse(file)
        .blocks.filter((b) => b.lang === 'sh')
        .flatMap((b) => b.lines)
        .map((l) => l.replace(/(^|\s)#.*$/, '').trim())
        .filter(Boolean)
        .flatMap((l) => l.split(/\s*&&\s*/));
      const h = new Harness();
      harnesses.push(h);
      // A person at a terminal: prompts are answered as the docs say (yes, or the deployment name).
      const deps = {
        isTTY: true,
        confirm: (q: string) => Promise.resolve(/deployment name/i.test(q) ? 'drctl' : 'yes'),
      };
      if (PAGE_CONFIG.has(file)) writePageConfig(file, h);
      for (const args of SETUP[file] ?? []) expect((await h.run(args, deps)).code).toBe(0);
      for (const command of commands) {
        expect(command, `${file}: quotes, pipes or variables are not checked here`).not.toMatch(/['"|$`;]/);
        const words = command.split(/\s+/);
        const env: Record<string, string> = {};
        while (/^[A-Z_]+=/.test(words[0]!)) {
          const [k, ...v] = words.shift()!.split('=');
          env[k!] = v.join('=');
        }
        const line = words.join(' ');
        if (words[0] === 'npx' && words[1] === 'drctl') {
          let args = words.slice(2);
          const redirect = args.indexOf('>');
          const out = redirect >= 0 ? args[redirect + 1] : undefined;
          if (redirect >= 0) args = args.slice(0, redirect);
          const r = await h.run(args, { ...deps, env: { PATH: process.env.PATH, ...env } });
          expect(r.code, `${file}: \`${line}\` exited ${r.code}:\n${r.stderr}`).toBe(0);
          if (out) writeFileSync(join(h.dir, out), r.stdout);
        } else if (words[0] === 'npm') {
          // npm's own options (`--silent`) come before the script's name.
          const script = words.slice(2).find((w) => !w.startsWith('-'));
          if (words[1] === 'run') expect(Object.keys(pkg.scripts), `${file}: ${line}`).toContain(script);
          else expect(['ci', 'test'], `${file}: ${line}`).toContain(words[1]);
        } else if (words[0] === 'node') {
          expect(words.slice(1, 3), `${file}: ${line}`).toEqual(['--import', 'tsx']);
          expect(existsSync(join(root, words[3]!)), `${file}: ${line}`).toBe(true);
        } else if (words[0] === 'aws') {
          expect(
            AWS_CLI.some((re) => re.test(line)),
            `${file}: an AWS CLI command not known here: ${line}`,
          ).toBe(true);
          // A file the command reads must be one an earlier command wrote.
          for (const m of line.matchAll(/file:\/\/(\S+)/g))
            expect(existsSync(join(h.dir, m[1]!)), `${file}: ${line}`).toBe(true);
        } else throw new Error(`${file}: a command the docs check does not know: ${line}`);
      }
    });
  });
});
