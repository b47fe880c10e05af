import type { AnyStepImpl, StepName } from './types.js';

export interface StepInfo {
  name: StepName;
  title: string;
  scope: 'regional' | 'global';
  /** Steps that must finish before this one starts (same region for regional steps). */
  after: StepName[];
  /**
   * Steps whose outputs this one may await part-way through `up` (ctx.outputOf), so it can start
   * its long-lead resources sooner. Declared here so plan can reject cycles before anything runs.
   */
  uses: StepName[];
  /** One line for `plan`: what it makes per region (or once). */
  creates: string;
  load: () => Promise<AnyStepImpl>;
}

/**
 * The workshop's steps in order, with their edges. Each module is imported only when a command
 * runs it, so `drctl --help` and `drctl plan` load no AWS SDK.
 */
export const STEPS: readonly StepInfo[] = [
  {
    name: 'keypairs',
    title: 'EC2 key pair',
    scope: 'regional',
    after: [],
    uses: [],
    creates: 'EC2 key pair (private key in .drctl/keys/<region>.pem, mode 0600)',
    load: async () => (await import('./keypairs.js')).keypairs,
  },
  {
    name: 'vpc',
    title: 'VPC stack',
    scope: 'regional',
    after: ['keypairs'],
    uses: [],
    creates:
      'CloudFormation stack: VPC, public + 2 private subnets, IGW, NAT gateway, route tables, endpoint SG, client instance',
    load: async () => (await import('./vpc.js')).vpc,
  },
];

export function stepInfo(name: string): StepInfo | undefined {
  return STEPS.find((s) => s.name === name);
}
