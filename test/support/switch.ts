import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { defaultConfig } from '../../src/config/config.js';
import { HOLD_METRIC, HOLD_NAMESPACE, holdAlarm } from '../../src/config/traffic-hold.js';
import { FakeCloudWatch } from './fake-cloud/index.js';
import type { Harness } from './harness.js';

// What the switch's tests read from the fake cloud: the hold metric's writes, and which region a
// client inside a VPC is answered by.

/** Every value written to the hold metric that keeps traffic away from `awayFrom`, oldest first. */
export function holdWrites(h: Harness, awayFrom: string): number[] {
  const a = holdAlarm(defaultConfig(), awayFrom);
  return h.cloud
    .model(FakeCloudWatch)
    .datapoints(a.region, HOLD_NAMESPACE, HOLD_METRIC, a.Dimensions, 0, Number.MAX_SAFE_INTEGER)
    .map((d) => d.value);
}

/** Which region answers a client inside `vpc`'s VPC now (the probe there, through DNS). */
export async function answeredBy(h: Harness, vpc: string): Promise<string | undefined> {
  const fn = h.outputs('probe', 'global').functionName;
  const r = await new LambdaClient({ region: vpc }).send(new InvokeCommand({ FunctionName: fn }));
  const p = JSON.parse(new TextDecoder().decode(r.Payload)) as { status?: number; region?: string };
  return p.status === 200 ? p.region : `none (${JSON.stringify(p)})`;
}
