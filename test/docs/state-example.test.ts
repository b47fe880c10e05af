import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultConfig, regionsOf } from '../../src/config/config.js';
import { GLOBAL, parseState } from '../../src/state/schema.js';
import { STEPS } from '../../src/steps/index.js';

describe('state.example.json', () => {
  const path = new URL('../../state.example.json', import.meta.url).pathname;
  const state = parseState(readFileSync(path, 'utf8'), path);

  it('records every step in every scope, as ready (regenerate with `npm run state-example`)', () => {
    for (const info of STEPS) {
      const scopes = info.scope === 'global' ? [GLOBAL] : regionsOf(defaultConfig());
      for (const scope of scopes)
        expect(state.steps[info.name]?.[scope]?.status, `${info.name} ${scope}`).toBe('ready');
    }
  });

  it("matches each step's own output schema", async () => {
    for (const info of STEPS) {
      const impl = await info.load();
      for (const [scope, rec] of Object.entries(state.steps[info.name] ?? {})) {
        const parsed = impl.outputs.safeParse(rec.resources);
        expect(parsed.success, `${info.name} ${scope}: ${JSON.stringify(parsed.error?.issues[0])}`).toBe(
          true,
        );
      }
    }
  });

  it('records the account and partition it was made in (the account guard)', () => {
    expect(state.account).toMatch(/^\d{12}$/);
    expect(state.partition).toBe('aws');
  });

  it('holds no key material', () => {
    expect(readFileSync(path, 'utf8')).not.toMatch(/PRIVATE KEY|BEGIN CERTIFICATE/);
  });
});
