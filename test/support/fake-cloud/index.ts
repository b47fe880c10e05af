import * as cfnSdk from '@aws-sdk/client-cloudformation';
import * as ec2Sdk from '@aws-sdk/client-ec2';
import { FakeCloud } from './cloud.js';
import { FakeCloudFormation } from './cloudformation.js';
import { VirtualClock } from './clock.js';
import { FakeEc2 } from './ec2.js';

export { FakeCloud, FakeService, tagsToMap, mapToTags, type CallLogEntry, type Faults } from './cloud.js';
export { VirtualClock } from './clock.js';
export { FakeAwsError, SimulatedCrash, awsError } from './errors.js';
export { DELAYS, type DelayKey } from './delays.js';
export { FakeEc2 } from './ec2.js';
export { FakeCloudFormation } from './cloudformation.js';

/**
 * A fake account with every service model drctl talks to, installed into the SDK clients.
 * Call the returned cloud's `uninstall()` (or use `withFakeCloud`) when done.
 */
export function createFakeCloud(opts: { clock?: VirtualClock } = {}): FakeCloud {
  const cloud = new FakeCloud({ clock: opts.clock ?? new VirtualClock() });
  cloud.register({ clientClass: ec2Sdk.EC2Client, sdk: ec2Sdk, model: new FakeEc2(cloud) });
  cloud.register({
    clientClass: cfnSdk.CloudFormationClient,
    sdk: cfnSdk,
    model: new FakeCloudFormation(cloud),
  });
  cloud.install();
  return cloud;
}
