import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { type BucketLocationConstraint, CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { main, type CliDeps } from '../../src/cli/main.js';
import type { RunEvent } from '../../src/io/events.js';
import type { VerifyResult } from '../../src/io/results.js';
import type { CheckLine } from '../../src/verify/check.js';
import type { State } from '../../src/state/schema.js';
import type { OutputsOf, StepName } from '../../src/steps/types.js';
import { createFakeCloud, FakeEc2, type FakeCloud } from './fake-cloud/index.js';
import { normalised } from './normalise.js';
import { upTo } from './steps.js';

export class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

export interface RunOutput {
  code: number;
  stdout: string;
  stderr: string;
  /** Parsed NDJSON events (with --json). */
  events: Array<RunEvent | ({ type: 'summary' } & Record<string, unknown>)>;
  summary: Record<string, unknown> | undefined;
}

/**
 * A working directory, a fake cloud and drctl's `main`, wired together: tests run real commands
 * (`h.run('up')`) and then look at the cloud (`h.cloud.snapshot()`) and the state (`h.state()`).
 */
export class Harness {
  readonly dir = mkdtempSync(join(tmpdir(), 'drctl-test-'));
  readonly cloud: FakeCloud;

  constructor(cloud?: FakeCloud) {
    this.cloud = cloud ?? createFakeCloud();
  }

  get statePath(): string {
    return join(this.dir, '.drctl', 'state.json');
  }

  state(): State | undefined {
    return existsSync(this.statePath)
      ? (JSON.parse(readFileSync(this.statePath, 'utf8')) as State)
      : undefined;
  }

  /**
   * What the state file records for `step` in `scope` (a region, or 'global'), typed by the step's
   * declared outputs (StepOutputs in src/steps/types.ts). Fails the test if nothing is recorded.
   */
  outputs<N extends StepName>(step: N, scope: string): OutputsOf<N> {
    const rec = this.state()?.steps[step]?.[scope];
    if (!rec) throw new Error(`the state records no ${step} in ${scope}`);
    return rec.resources as OutputsOf<N>;
  }

  writeConfig(config: Record<string, unknown>, name = 'drctl.config.json'): string {
    const p = join(this.dir, name);
    writeFileSync(p, JSON.stringify(config));
    return p;
  }

  /**
   * `up` asks before it creates anything (and refuses without a terminal): tests answer with
   * --yes unless they pass `{ autoYes: false }` to see the question itself.
   */
  async run(args: string[], deps: Partial<CliDeps> = {}, o: { autoYes?: boolean } = {}): Promise<RunOutput> {
    const stdout = new Capture();
    const stderr = new Capture();
    const yes = o.autoYes !== false && args.includes('up') && !args.includes('--yes') && !args.includes('-y');
    // The caller holds the policy `drctl iam-policy` prints for this command's config and state.
    this.cloud.authorizer.actAsFor(args, this.dir);
    const code = await main(['node', 'drctl', ...(yes ? ['--yes'] : []), ...args], {
      cwd: this.dir,
      env: { PATH: process.env.PATH },
      stdout,
      stderr,
      isTTY: false,
      clock: this.cloud.clock,
      aws: { credentials: () => Promise.resolve({ accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake' }) },
      ...deps,
    });
    const events = stdout.text
      .split('\n')
      .filter((l) => l.startsWith('{') && l.endsWith('}'))
      .map((l) => JSON.parse(l) as RunOutput['events'][number]);
    const summary = events.find((e) => e.type === 'summary') as Record<string, unknown> | undefined;
    return { code, stdout: stdout.text, stderr: stderr.text, events, summary };
  }

  /** `up` (or any command) with --json; fails the test with drctl's own words if it did not exit 0. */
  /**
   * A bucket the team made beforehand (as another user of the account), for `--state s3://...`:
   * a client of it, for a test to look into it as that user.
   */
  async teamBucket(bucket: string, region: string): Promise<S3Client> {
    const s3 = new S3Client({
      region,
      credentials: () => Promise.resolve({ accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake' }),
    });
    await this.cloud.authorizer.asAdmin(() =>
      s3.send(
        new CreateBucketCommand({
          Bucket: bucket,
          CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint },
        }),
      ),
    );
    return s3;
  }

  /** `drctl --json verify`'s lines of one check (its id: `api-drift`, `probe`, ...). */
  async verifyLines(check: string, deps: Partial<CliDeps> = {}): Promise<CheckLine[]> {
    const r = await this.run(['--json', 'verify'], deps);
    return (r.summary as unknown as VerifyResult).checks.filter((l) => l.check === check);
  }

  async ok(args: string[], deps: Partial<CliDeps> = {}): Promise<RunOutput> {
    const r = await this.run(['--json', ...args], deps);
    if (r.code !== 0) throw new Error(`drctl ${args.join(' ')} exited ${r.code}\n${r.stderr}\n${r.stdout}`);
    return r;
  }

  cleanup(): void {
    this.cloud.uninstall();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The normalised snapshot of a clean full `up` on a fresh fake cloud: what every recovery must end with. */
export async function cleanUpSnapshot(): Promise<string[]> {
  const x = new Harness();
  try {
    await x.ok(['up']);
    return normalised(x.cloud.snapshot());
  } finally {
    x.cleanup();
  }
}

/**
 * A Lambda Hyperplane ENI in the first private subnet `up` recorded in `region`, released
 * `releaseInMs` from now (Lambda releases them by itself, long after the function is gone).
 */
export function lingeringLambdaEni(h: Harness, region: string, releaseInMs: number): number {
  const ec2 = h.cloud.model(FakeEc2).region(region);
  const subnetId = h.outputs('vpc', region).privateSubnetIds[0]!;
  const releaseAt = h.cloud.clock.now() + releaseInMs;
  ec2.enis.set('eni-0lambda', {
    NetworkInterfaceId: 'eni-0lambda',
    SubnetId: subnetId,
    VpcId: ec2.subnets.get(subnetId)!.VpcId,
    groupIds: [],
    PrivateIpAddress: '10.0.1.99',
    Description: 'AWS Lambda VPC ENI-cwsyn-test',
    owner: 'lambda:test',
    releaseAt,
  });
  return releaseAt;
}

/** Just what the primary's canary and its health check need: no peering, zone, records or probe. */
export const UP_TO_CHECK = upTo('health-check', 'domain');
