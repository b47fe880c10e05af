/**
 * `npm run docs`: rewrites the generated sections of README.md (between the `<!-- generated:NAME -->`
 * and `<!-- /generated:NAME -->` markers). test/docs/readme.test.ts fails when they are stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { generatedSections, replaceSections } from '../src/docs.js';

const path = new URL('../README.md', import.meta.url);
const before = readFileSync(path, 'utf8');
const after = replaceSections(before, await generatedSections());
if (after !== before) writeFileSync(path, after);
process.stdout.write(after === before ? 'README.md is up to date\n' : 'README.md updated\n');
