import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generatedSections, replaceSections } from '../../src/docs.js';

describe('README', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

  it('opens with the two commands a newcomer needs', () => {
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)![1]!;
    expect(firstBlock).toMatch(/^npm ci && npx drctl/m);
    expect(firstBlock).toMatch(/^npm test/m);
  });

  it('its generated sections match the code (run `npm run docs` to refresh them)', async () => {
    expect(replaceSections(readme, await generatedSections())).toBe(readme);
  });
});
