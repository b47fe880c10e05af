import { describe, expect, it } from 'vitest';
import { OutputNotRecorded, outputField, readOutputs, recordedOutputs } from '../../src/state/outputs.js';
import type { State } from '../../src/state/schema.js';

const at = '2026-01-01T00:00:00.000Z';
const state: Pick<State, 'steps'> = {
  steps: {
    nlb: {
      'eu-west-1': {
        status: 'ready',
        updatedAt: at,
        resources: { dnsName: 'internal-x.elb.eu-west-1.amazonaws.com', targetGroupArn: 'arn:aws:tg' },
      },
      'eu-central-1': { status: 'creating', updatedAt: at, resources: { loadBalancerName: 'n' } },
    },
    ca: { 'eu-west-1': { status: 'ready', updatedAt: at, resources: { certificateAuthorityArn: null } } },
  },
};

describe('typed output readers', () => {
  it('reads a ready step whole, typed by its declared outputs', () => {
    const nlb = readOutputs(state, 'nlb', 'eu-west-1');
    expect(nlb.dnsName).toBe('internal-x.elb.eu-west-1.amazonaws.com');
  });

  it('refuses a step that is not ready, naming step and scope', () => {
    expect(() => readOutputs(state, 'nlb', 'eu-central-1')).toThrow(
      new OutputNotRecorded('nlb', 'eu-central-1'),
    );
    expect(() => readOutputs(state, 'vpc', 'eu-west-1')).toThrow(
      'step vpc in eu-west-1 is not recorded as ready',
    );
  });

  it('reads what a step recorded so far, and nothing when it recorded nothing', () => {
    expect(recordedOutputs(state, 'nlb', 'eu-central-1')?.loadBalancerName).toBe('n');
    expect(recordedOutputs(state, 'vpc', 'eu-west-1')).toBeUndefined();
  });

  it('reads one field whatever the status, or names step, scope and field', () => {
    expect(outputField(state, 'nlb', 'eu-central-1', 'loadBalancerName')).toBe('n');
    expect(() => outputField(state, 'nlb', 'eu-central-1', 'dnsName')).toThrow(
      'dnsName of step nlb in eu-central-1 is not recorded',
    );
    expect(() => outputField(state, 'ca', 'eu-west-1', 'certificateAuthorityArn')).toThrow(OutputNotRecorded);
  });
});
