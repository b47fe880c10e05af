import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { drillHistorySchema, type DrillHistoryRecord } from '../../src/drill/history.js';
import { FakeEc2, FakeS3 } from '../support/fake-cloud/index.js';
import { Harness } from '../support/harness.js';

const PRIMARY = 'sa-east-1';
const SECONDARY = 'us-west-1';

let h: Harness;
afterEach(() => h?.cleanup());

const drillsDir = () => join(h.dir, '.drctl', 'drills');
const records = (): Array<{ file: string; record: DrillHistoryRecord }> =>
  readdirSync(drillsDir())
    .sort()
    .map((file) => ({
      file,
      record: drillHistorySchema.parse(JSON.parse(readFileSync(join(drillsDir(), file), 'utf8'))),
    }));

async function upAll(config?: Record<string, unknown>): Promise<void> {
  h = new Harness();
  if (config) h.writeConfig(config);
  await h.ok(['up']);
  h.cloud.clock.advance(5 * 60_000);
}

describe('drill history (drctl drills)', () => {
  it('keeps every failover-test beside the state: its timeline, probe answers, times and verdict', async () => {
    await upAll();
    const r = await h.run(['--json', 'failover-test', '--mode', 'outage']);
    expect(r.code, r.stderr).toBe(0);
    const summary = r.summary as Record<string, any>;
    const { file, record } = records()[0]!;
    expect(file).toMatch(/^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z-outage\.json$/);
    expect(record).toMatchObject({
      mode: 'outage',
      dryRun: false,
      result: 'pass',
      deployment: 'drctl',
      account: '111122223333',
      regions: { primary: PRIMARY, secondary: SECONDARY },
      drctlVersion: JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version,
      recoverySeconds: summary.recoverySeconds,
      failbackSeconds: summary.failbackSeconds,
      boundSeconds: summary.boundSeconds,
      rtoTargetSeconds: 300,
      problems: [],
    });
    expect(record.failover.map((m) => m.event)).toEqual(['fault', 'alarm', 'health-check', 'dns', 'served']);
    expect(record.failover.every((m) => m.at !== null)).toBe(true);
    expect(record.failback.every((m) => m.at !== null)).toBe(true);
    // Which region answered each probe, over time: the primary, then the secondary, then the primary.
    const answered = record.samples.map((x) => x.answered);
    expect(answered).toContain('secondary');
    expect(answered[answered.length - 1]).toBe('primary');
    expect(record.samples.filter((x) => x.phase === 'failover').some((x) => x.servedBy === SECONDARY)).toBe(
      true,
    );
    expect(record.probes).toBe(record.samples.length);
    // Every event the terminal showed, the fault and the restore among them.
    expect(record.events.some((e) => e.type === 'change' && e.phase === 'inject')).toBe(true);
    expect(record.events.some((e) => e.type === 'change' && e.phase === 'restore')).toBe(true);
    expect(Date.parse(record.endedAt)).toBeGreaterThan(Date.parse(record.startedAt));
  }, 60_000);

  it('keeps a dry run as such, a missed target as a fail and a refusal as refused; drills lists them in order', async () => {
    await upAll({ rtoTargetSeconds: 30 });
    expect((await h.run(['failover-test', '--dry-run'])).code).toBe(0);
    h.cloud.clock.advance(60_000);
    expect((await h.run(['failover-test'])).code).toBe(3);
    h.cloud.clock.advance(10 * 60_000);
    const sg = h.state()!.steps.vpc![SECONDARY]!.resources.endpointSecurityGroupId as string;
    h.cloud.model(FakeEc2).region(SECONDARY).securityGroups.get(sg)!.ingress.length = 0;
    expect((await h.run(['failover-test'])).code).toBe(2);

    const all = records();
    expect(all.map((x) => x.record.result)).toEqual(['dry-run', 'fail', 'refused']);
    expect(all[0]!.file).toMatch(/-invert-dry-run\.json$/);
    expect(all[0]!.record).toMatchObject({ dryRun: true, recoverySeconds: null, samples: [] });
    expect(all[1]!.record.problems.join(' ')).toMatch(/over the target of 30 s/);
    expect(all[1]!.record.recoverySeconds).toBeGreaterThan(30);
    expect(all[2]!.record.error).toMatch(/refusing to inject: the secondary has no healthy target/);

    const people = await h.run(['drills']);
    expect(people.code).toBe(0);
    const lines = people.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^3 drill\(s\) of deployment drctl/);
    expect(lines[1]).toMatch(/ invert +DRY-RUN +nothing was changed$/);
    expect(lines[2]).toMatch(/ invert +FAIL +recovery \d+ s \(target 30 s, bound 150 s\), fail-back \d+ s$/);
    expect(lines[3]).toMatch(/ invert +REFUSED +.*refusing to inject/);
    const json = await h.ok(['drills']);
    expect((json.summary!.drills as unknown[]).length).toBe(3);
  }, 60_000);

  it('with the state on S3, keeps the drills next to the state object and lists them from there', async () => {
    h = new Harness();
    // The team made the bucket beforehand, and the test (not drctl) looks into it afterwards.
    const s3 = await h.teamBucket('team-state', PRIMARY);
    const state = ['--state', 's3://team-state/team/prod.json'];
    await h.ok([...state, 'up']);
    h.cloud.clock.advance(5 * 60_000);
    expect((await h.run([...state, 'failover-test', '--dry-run'])).code).toBe(0);
    const listed = await h.cloud.authorizer.asAdmin(() =>
      s3.send(new ListObjectsV2Command({ Bucket: 'team-state', Prefix: 'team/drills/' })),
    );
    const keys = (listed.Contents ?? []).map((o) => o.Key!);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^team\/drills\/.*-invert-dry-run\.json$/);
    const record = JSON.parse(h.cloud.model(FakeS3).objectText('team-state', keys[0]!)!);
    expect(record).toMatchObject({ result: 'dry-run', dryRun: true });
    const r = await h.run([...state, 'drills']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/1 drill\(s\) .* kept in s3:\/\/team-state\/team\/drills/);
  }, 60_000);

  it('says so when there is no drill yet', async () => {
    h = new Harness();
    const r = await h.run(['drills']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/no drill recorded in .* yet/);
  });
});
