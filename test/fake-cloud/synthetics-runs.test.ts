import { GetCanaryRunsCommand, SyntheticsClient } from '@aws-sdk/client-synthetics';
import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeSynthetics } from '../support/fake-cloud/index.js';
import { Harness } from '../support/harness.js';
import { upTo } from '../support/steps.js';

// GetCanaryRuns as the fake models it (test/support/fake-cloud/README.md, Synthetics): a run
// whose Lambda cannot run is FAILED with StateReasonCode CANARY_FAILURE and AWS's reason, and
// publishes nothing (https://docs.aws.amazon.com/AmazonSynthetics/latest/APIReference/API_CanaryRunStatus.html).

const PRIMARY = 'sa-east-1';
const NAME = 'drctl-pri';

let h: Harness;
afterEach(() => h?.cleanup());

describe('fake Synthetics GetCanaryRuns', () => {
  it('setRunError: later runs FAILED with the reason, newest first, and no metric data; undefined ends it', async () => {
    h = new Harness();
    await h.ok(['up'], upTo('canary', 'domain'));
    h.cloud.clock.advance(3 * 60_000);
    const fake = h.cloud.model(FakeSynthetics);
    const reason = 'The role defined for the function cannot be assumed by Lambda.';
    fake.setRunError(PRIMARY, reason);
    const from = h.cloud.clock.now();
    h.cloud.clock.advance(3 * 60_000);
    await h.cloud.authorizer.asAdmin(async () => {
      const syn = new SyntheticsClient({ region: PRIMARY });
      const runs = (await syn.send(new GetCanaryRunsCommand({ Name: NAME }))).CanaryRuns!;
      expect(runs[0]!.Status).toEqual({
        State: 'FAILED',
        StateReason: reason,
        StateReasonCode: 'CANARY_FAILURE',
      });
      expect(runs.at(-1)!.Status!.State).toBe('PASSED');
      const stats = await new CloudWatchClient({ region: PRIMARY }).send(
        new GetMetricStatisticsCommand({
          Namespace: 'CloudWatchSynthetics',
          MetricName: 'SuccessPercent',
          Dimensions: [{ Name: 'CanaryName', Value: NAME }],
          StartTime: new Date(from + 1),
          EndTime: new Date(h.cloud.clock.now()),
          Period: 60,
          Statistics: ['SampleCount'],
        }),
      );
      expect(stats.Datapoints ?? []).toEqual([]);
      fake.setRunError(PRIMARY, undefined);
      h.cloud.clock.advance(2 * 60_000);
      const after = (await syn.send(new GetCanaryRunsCommand({ Name: NAME }))).CanaryRuns!;
      expect(after[0]!.Status!.State).toBe('PASSED');
    });
  });
});
