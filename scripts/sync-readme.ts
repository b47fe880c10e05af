/**
 * `npm run docs`: rewrites the generated sections of the docs (between the `<!-- generated:NAME -->`
 * and `<!-- /generated:NAME -->` markers; today the config reference in docs/configuration.md).
 * test/docs/readme.test.ts fails when they are stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { generatedSections, replaceSections } from '../src/config/doc-sections.js';

for (const [file, sections] of Object.entries(await generatedSections())) {
  const path = new URL(`../${file}`, import.meta.url);
  const before = readFileSync(path, 'utf8');
  const after = replaceSections(before, sections, file);
  if (after !== before) writeFileSync(path, after);
  process.stdout.write(after === before ? `${file} is up to date\n` : `${file} updated\n`);
}
