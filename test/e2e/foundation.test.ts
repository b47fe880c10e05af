import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { STEPS } from '../../src/steps/index.js';
import { Harness } from '../support/harness.js';

const FIRST_TWO = { steps: STEPS.slice(0, 2) };

let h: Harness;
afterEach(() => h?.cleanup());

describe('up and down of keypairs and vpc on the fake cloud', () => {
  it('up creates one key pair and one stack per region and records them', async () => {
    h = new Harness();
    await h.ok(['up'], FIRST_TWO);
    const snap = h.cloud.snapshot();
    expect(snap.filter((l) => l.includes('/key-pair/'))).toEqual([
      'ec2/sa-east-1/key-pair/drctl-sa-east-1',
      'ec2/us-west-1/key-pair/drctl-us-west-1',
    ]);
    expect(snap.filter((l) => l.startsWith('cloudformation/'))).toEqual([
      'cloudformation/sa-east-1/stack/drctl-vpc(CREATE_COMPLETE)',
      'cloudformation/us-west-1/stack/drctl-vpc(CREATE_COMPLETE)',
    ]);
    const state = h.state()!;
    expect(state.steps.vpc!['sa-east-1']!.status).toBe('ready');
    expect(state.steps.vpc!['us-west-1']!.resources.vpcCidr).toBe('172.16.0.0/16');
    const pem = join(h.dir, '.drctl', 'keys', 'sa-east-1.pem');
    expect(statSync(pem).mode & 0o777).toBe(0o600);
    expect(JSON.stringify(state)).not.toContain('PRIVATE KEY');
  });

  it('down leaves the fake cloud empty and removes the PEM files', async () => {
    h = new Harness();
    await h.ok(['up'], FIRST_TWO);
    await h.ok(['down', '--yes'], FIRST_TWO);
    expect(h.cloud.snapshot()).toEqual([]);
    expect(existsSync(join(h.dir, '.drctl', 'keys', 'sa-east-1.pem'))).toBe(false);
    expect(h.state()!.steps).toEqual({});
  });
});
