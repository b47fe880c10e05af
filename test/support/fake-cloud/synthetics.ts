// Over 500 lines: a canary's life (create, update, start, stop, runs, delete) is one state machine.
import { CANARY_FUNCTION_ACTIONS, SYNTHETICS_RUNTIME_LAYER } from './authz/on-behalf.js';
import { strFromU8, unzipSync } from 'fflate';
import { FakeService } from './cloud.js';
import { FakeCloudWatch } from './cloudwatch.js';
import { FakeEc2 } from './ec2.js';
import { awsError } from './errors.js';
import { page } from './paging.js';
import { FakeIam } from './iam.js';
import { FakeS3 } from './s3.js';

export type CanaryState =
  'CREATING' | 'READY' | 'STARTING' | 'RUNNING' | 'UPDATING' | 'STOPPING' | 'STOPPED' | 'DELETING' | 'ERROR';

/** What an UpdateCanary changes, applied when UPDATING ends. */
type CanaryUpdate = Partial<
  Pick<
    FakeCanary,
    | 'Handler'
    | 'script'
    | 'files'
    | 'ArtifactS3Location'
    | 'ExecutionRoleArn'
    | 'Expression'
    | 'DurationInSeconds'
    | 'TimeoutInSeconds'
    | 'MemoryInMB'
    | 'EnvironmentVariables'
    | 'RuntimeVersion'
    | 'VpcConfig'
    | 'SuccessRetentionPeriodInDays'
    | 'FailureRetentionPeriodInDays'
  >
>;

/**
 * What one run of a canary sees: `pass` (the target answered as the script expects), `fail` (it
 * did not), `silent` (the canary has no way out of its VPC: no result reaches CloudWatch or S3).
 */
export type ProbeOutcome = 'pass' | 'fail' | 'silent';

export interface FakeCanary {
  Name: string;
  Id: string;
  arn: string;
  region: string;
  state: CanaryState;
  stateReason?: string;
  /** When the current transitional state ends. */
  until: number;
  Handler: string;
  script: string;
  /** Every file of the zip under nodejs/node_modules/ (the script, a CA bundle beside it, ...). */
  files: Record<string, string>;
  ArtifactS3Location: string;
  ExecutionRoleArn: string;
  Expression: string;
  DurationInSeconds: number;
  TimeoutInSeconds: number;
  MemoryInMB: number;
  EnvironmentVariables: Record<string, string>;
  RuntimeVersion: string;
  VpcConfig?: { VpcId: string; SubnetIds: string[]; SecurityGroupIds: string[] };
  SuccessRetentionPeriodInDays: number;
  FailureRetentionPeriodInDays: number;
  tags: Record<string, string>;
  lambdaName: string;
  createdAt: number;
  lastModified: number;
  lastStarted?: number;
  lastStopped?: number;
  /** Completion time of the next scheduled run while RUNNING. */
  nextRunAt?: number;
  /** Until when the schedule runs (DurationInSeconds), when not 0. */
  runUntil?: number;
  deleteLambda?: boolean;
  /** `error`: the run never got to the script (its Lambda could not run): GetCanaryRuns' StateReason. */
  runs: Array<{ Id: string; at: number; outcome: ProbeOutcome; error?: string }>;
  /** CREATING ends in ERROR with this reason (no Lambda is made). */
  failReason?: string;
  /** While UPDATING: the changes, and the state the canary goes back to (ERROR: READY). */
  update?: { changes: CanaryUpdate; resume: CanaryState };
  /** Updates the canary has taken (tests tell an in-place change from a replacement). */
  updates: number;
}

interface LambdaFunction {
  FunctionName: string;
  region: string;
  canary: string;
  eniIds: string[];
}

interface RuntimeVersion {
  VersionName: string;
  Description: string;
  ReleaseDate: Date;
  DeprecationDate?: Date;
}

/** A mix of current and deprecated runtimes, as DescribeRuntimeVersions lists them. */
export const RUNTIME_VERSIONS: RuntimeVersion[] = [
  {
    VersionName: 'syn-nodejs-2.2',
    Description: 'Puppeteer-core 3.3.0, Chromium 83',
    ReleaseDate: new Date('2020-09-11'),
    DeprecationDate: new Date('2023-01-08'),
  },
  {
    VersionName: 'syn-nodejs-puppeteer-3.9',
    Description: 'Puppeteer-core 5.5.0, Chromium 92',
    ReleaseDate: new Date('2021-01-01'),
    DeprecationDate: new Date('2024-01-08'),
  },
  {
    VersionName: 'syn-nodejs-puppeteer-6.2',
    Description: 'Puppeteer-core 19.7.0, Node 18',
    ReleaseDate: new Date('2023-12-01'),
    DeprecationDate: new Date('2025-03-08'),
  },
  {
    VersionName: 'syn-nodejs-puppeteer-9.1',
    Description: 'Puppeteer-core 22.12.1, Node 20',
    ReleaseDate: new Date('2024-10-01'),
  },
  {
    VersionName: 'syn-nodejs-puppeteer-10.0',
    Description: 'Puppeteer-core 24.2.0, Node 20',
    ReleaseDate: new Date('2025-02-20'),
  },
  {
    VersionName: 'syn-nodejs-puppeteer-11.0',
    Description: 'Puppeteer-core 24.15.0, Node 22',
    ReleaseDate: new Date('2025-08-01'),
  },
  {
    VersionName: 'syn-nodejs-playwright-2.0',
    Description: 'Playwright 1.49, Node 20',
    ReleaseDate: new Date('2025-03-01'),
  },
  { VersionName: 'syn-nodejs-3.0', Description: 'Node 22, browserless', ReleaseDate: new Date('2025-09-01') },
  {
    VersionName: 'syn-python-selenium-5.1',
    Description: 'Selenium 4.21, Python 3.11',
    ReleaseDate: new Date('2025-01-01'),
  },
];

const NAMESPACE = 'CloudWatchSynthetics';
const DELETABLE = new Set(['STOPPED', 'READY', 'ERROR']);

function rateMs(expression: string): number | undefined {
  const m = /^rate\((\d+) (minute|minutes|hour|hours)\)$/.exec(expression);
  if (m) return Number(m[1]) * (m[2]!.startsWith('hour') ? 3_600_000 : 60_000);
  if (/^cron\(.+\)$/.test(expression)) return 60_000;
  return undefined;
}

/**
 * CloudWatch Synthetics, per region. A canary is CREATING until 'canary.create' (its Lambda and,
 * for a VPC canary, one Lambda ENI per subnet appear at once), then READY; StartCanary works only
 * from READY or STOPPED (ConflictException otherwise), StopCanary only from RUNNING, DeleteCanary
 * not while RUNNING or in transition. While RUNNING, every scheduled run publishes Failed and
 * SuccessPercent (dimension CanaryName) to the fake CloudWatch and writes its report to the
 * artifact bucket, as the role's policy allows; a `silent` run publishes nothing. DeleteCanary
 * with DeleteLambda releases the ENIs 'lambda.eniRelease' after the delete; without it the
 * function and its ENIs stay (visible in the snapshot).
 */
/** What CreateCanary sets and UpdateCanary may change (API_CreateCanary.html, API_UpdateCanary.html). */
interface CanarySettings {
  Code: { Handler: string; ZipFile?: Uint8Array; S3Bucket?: string; S3Key?: string };
  ArtifactS3Location: string;
  ExecutionRoleArn: string;
  Schedule: { Expression: string; DurationInSeconds?: number };
  RunConfig?: {
    TimeoutInSeconds?: number;
    MemoryInMB?: number;
    EnvironmentVariables?: Record<string, string>;
  };
  SuccessRetentionPeriodInDays?: number;
  FailureRetentionPeriodInDays?: number;
  RuntimeVersion: string;
  VpcConfig?: { SubnetIds?: string[]; SecurityGroupIds?: string[] };
}

export class FakeSynthetics extends FakeService {
  readonly service = 'synthetics';
  private readonly canaries = new Map<string, Map<string, FakeCanary>>();
  readonly lambdas = new Map<string, LambdaFunction>();
  private readonly outcomes = new Map<string, ProbeOutcome>();
  private readonly runErrors = new Map<string, string>();
  /**
   * How a role Lambda cannot assume yet (or whose ec2:CreateNetworkInterface has not spread yet)
   * shows: `refuse` fails CreateCanary with a ValidationException; `error` accepts it and the
   * canary ends CREATING in ERROR with that reason (what Terraform sees on real AWS:
   * terraform-provider-aws internal/service/synthetics/canary.go).
   */
  roleNotAssumable: 'refuse' | 'error' = 'refuse';
  private hooked = false;

  /**
   * What a run at `at` sees: `setProbeOutcome` for its region when a test set one, else what the
   * fake network lets it reach (`reachability`: endpoint, security groups, API), else a pass.
   */
  probe: (canary: FakeCanary, at: number) => ProbeOutcome = (c) =>
    this.outcomes.get(c.region) ?? this.reachability?.(c) ?? 'pass';

  /**
   * What the fake network lets a run see when no outcome was set by hand: the network model
   * (network.ts) plugs in here, so a revoked security-group rule fails the canary on its own.
   */
  reachability: ((canary: FakeCanary) => ProbeOutcome) | undefined;

  /** Change what runs in `region` see from now on (runs already due are published first). */
  setProbeOutcome(region: string, outcome: ProbeOutcome): void {
    this.settleAll();
    this.outcomes.set(region, outcome);
  }

  /**
   * From now on every run in `region` fails before the script starts, with `reason` (what
   * GetCanaryRuns shows when the canary's Lambda cannot run: its role, its VPC ENIs, its layer):
   * State FAILED, StateReasonCode CANARY_FAILURE, StateReason the reason
   * (https://docs.aws.amazon.com/AmazonSynthetics/latest/APIReference/API_CanaryRunStatus.html).
   * No script ran, so nothing is published: the alarm gets no data. `undefined` ends it.
   */
  setRunError(region: string, reason: string | undefined): void {
    this.settleAll();
    if (reason === undefined) this.runErrors.delete(region);
    else this.runErrors.set(region, reason);
  }

  /** From now on runs in `region` see the fake network again. */
  clearProbeOutcome(region: string): void {
    this.settleAll();
    this.outcomes.delete(region);
  }

  private get cw(): FakeCloudWatch {
    const cw = this.cloud.model(FakeCloudWatch);
    if (!this.hooked) {
      this.hooked = true;
      cw.addMetricSource(() => this.settleAll());
    }
    return cw;
  }

  private regionMap(region: string): Map<string, FakeCanary> {
    void this.cw; // CloudWatch reads must see the runs due so far
    let m = this.canaries.get(region);
    if (!m) this.canaries.set(region, (m = new Map()));
    return m;
  }

  settleAll(): void {
    for (const m of this.canaries.values()) for (const c of [...m.values()]) this.settle(c);
  }

  /** Apply every transition and run due by now, in time order. */
  private settle(c: FakeCanary): void {
    const now = this.now();
    for (;;) {
      if (c.state === 'RUNNING') {
        this.runDue(c, now);
        return;
      }
      if (now < c.until) return;
      switch (c.state) {
        case 'CREATING':
          c.state = c.failReason ? 'ERROR' : 'READY';
          c.stateReason = c.failReason;
          break;
        case 'STARTING': {
          c.state = 'RUNNING';
          c.lastStarted = c.until;
          const every = rateMs(c.Expression) ?? 60_000;
          c.nextRunAt = c.until + every;
          c.runUntil = c.DurationInSeconds > 0 ? c.until + c.DurationInSeconds * 1000 : undefined;
          break;
        }
        case 'STOPPING':
          c.state = 'STOPPED';
          c.lastStopped = c.until;
          break;
        case 'UPDATING':
          this.finishUpdate(c);
          break;
        case 'DELETING':
          this.regionMap(c.region).delete(c.Name);
          if (c.deleteLambda) this.deleteLambda(c.lambdaName, c.until);
          return;
        default:
          return;
      }
    }
  }

  /**
   * The new settings take effect when UPDATING ends; a canary that was RUNNING runs again from
   * then (LastStarted moves, as after an update on AWS), with the new code from its next run.
   */
  private finishUpdate(c: FakeCanary): void {
    const { changes, resume } = c.update!;
    c.update = undefined;
    const oldSubnets = c.VpcConfig?.SubnetIds ?? [];
    Object.assign(c, changes);
    c.updates++;
    c.lastModified = c.until;
    c.stateReason = undefined;
    const newSubnets = c.VpcConfig?.SubnetIds ?? [];
    if (JSON.stringify([...oldSubnets].sort()) !== JSON.stringify([...newSubnets].sort())) {
      this.moveLambdaEnis(c, c.until);
    }
    c.state = resume === 'ERROR' ? 'READY' : resume;
    if (c.state === 'RUNNING') {
      c.lastStarted = c.until;
      c.nextRunAt = c.until + (rateMs(c.Expression) ?? 60_000);
      c.runUntil = c.DurationInSeconds > 0 ? c.until + c.DurationInSeconds * 1000 : undefined;
    }
  }

  /** New VPC settings: the function gets ENIs in the new subnets; Lambda releases the old ones later. */
  private moveLambdaEnis(c: FakeCanary, at: number): void {
    const fn = this.lambdas.get(c.lambdaName);
    if (!fn) return;
    const ec2 = this.cloud.model(FakeEc2).region(c.region);
    for (const id of fn.eniIds) {
      const eni = ec2.enis.get(id);
      if (eni) eni.releaseAt = at + this.delay('lambda.eniRelease');
    }
    fn.eniIds = [];
    for (const subnetId of c.VpcConfig?.SubnetIds ?? []) {
      const eniId = this.id('eni-');
      ec2.enis.set(eniId, {
        NetworkInterfaceId: eniId,
        SubnetId: subnetId,
        VpcId: c.VpcConfig!.VpcId,
        groupIds: [...c.VpcConfig!.SecurityGroupIds],
        PrivateIpAddress: ec2.allocateIp(subnetId),
        Description: `AWS Lambda VPC ENI-${c.lambdaName}`,
        owner: `lambda:${c.lambdaName}`,
      });
      fn.eniIds.push(eniId);
    }
  }

  private runDue(c: FakeCanary, upTo: number): void {
    const every = rateMs(c.Expression) ?? 60_000;
    while (c.nextRunAt !== undefined && c.nextRunAt <= upTo) {
      if (c.runUntil !== undefined && c.nextRunAt > c.runUntil) {
        c.state = 'STOPPED';
        c.lastStopped = c.runUntil;
        c.nextRunAt = undefined;
        return;
      }
      this.run(c, c.nextRunAt);
      c.nextRunAt = c.Expression === 'rate(0 minute)' ? undefined : c.nextRunAt + every;
    }
  }

  private run(c: FakeCanary, at: number): void {
    const error = this.runErrors.get(c.region);
    if (error !== undefined) {
      c.runs.push({ Id: this.id('run-'), at, outcome: 'fail', error });
      return;
    }
    const outcome = this.probe(c, at);
    c.runs.push({ Id: this.id('run-'), at, outcome });
    if (outcome === 'silent') return;
    const iam = this.cloud.model(FakeIam);
    if (iam.allows(c.ExecutionRoleArn, 'cloudwatch:PutMetricData')) {
      const dims = [{ Name: 'CanaryName', Value: c.Name }];
      this.cw.publish(c.region, NAMESPACE, 'Failed', dims, outcome === 'fail' ? 1 : 0, at);
      this.cw.publish(c.region, NAMESPACE, 'SuccessPercent', dims, outcome === 'fail' ? 0 : 100, at);
      this.cw.publish(c.region, NAMESPACE, 'Duration', dims, 1200, at);
    }
    const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(c.ArtifactS3Location);
    if (!m) return;
    const [, bucket, prefix] = m;
    const d = new Date(at).toISOString();
    const folder = `${prefix ? `${prefix.replace(/\/$/, '')}/` : ''}${d.slice(0, 4)}/${d.slice(5, 7)}/${d.slice(8, 10)}/${d.slice(11, 13)}/${d.slice(14, 16)}-${d.slice(17, 19)}-${d.slice(20, 23)}`;
    const report = `${folder}/SyntheticsReport-${outcome === 'pass' ? 'PASSED' : 'FAILED'}.json`;
    if (iam.allows(c.ExecutionRoleArn, 's3:PutObject', `arn:aws:s3:::${bucket}/${report}`)) {
      const s3 = this.cloud.model(FakeS3);
      s3.putArtifact(c.region, bucket!, report);
      s3.putArtifact(c.region, bucket!, `${folder}/logs.txt`);
    }
  }

  private deleteLambda(name: string, at: number): void {
    const fn = this.lambdas.get(name);
    if (!fn) return;
    this.lambdas.delete(name);
    const enis = this.cloud.model(FakeEc2).region(fn.region).enis;
    for (const id of fn.eniIds) {
      const eni = enis.get(id);
      // Lambda keeps Hyperplane ENIs for a while after the function goes (docs/design/timings.md row 9).
      if (eni) eni.releaseAt = at + this.delay('lambda.eniRelease');
    }
  }

  /** The canary as it is now (tests look at what drctl made). */
  find(region: string, name: string): FakeCanary | undefined {
    const c = this.regionMap(region).get(name);
    if (c) this.settle(c);
    return this.regionMap(region).get(name);
  }

  private canary(region: string, name: string): FakeCanary {
    const c = this.regionMap(region).get(name);
    if (c) this.settle(c);
    const live = this.regionMap(region).get(name);
    if (!live) throw awsError('ResourceNotFoundException', `Canary ${name} not found.`, 404);
    return live;
  }

  private describe(c: FakeCanary) {
    return {
      Id: c.Id,
      Name: c.Name,
      Code: {
        SourceLocationArn: `arn:aws:lambda:${c.region}:${this.cloud.account}:layer:cwsyn-${c.Name}-${c.Id.slice(0, 8)}:1`,
        Handler: c.Handler,
      },
      ExecutionRoleArn: c.ExecutionRoleArn,
      Schedule: { Expression: c.Expression, DurationInSeconds: c.DurationInSeconds },
      RunConfig: { TimeoutInSeconds: c.TimeoutInSeconds, MemoryInMB: c.MemoryInMB, ActiveTracing: false },
      SuccessRetentionPeriodInDays: c.SuccessRetentionPeriodInDays,
      FailureRetentionPeriodInDays: c.FailureRetentionPeriodInDays,
      Status: {
        State: c.state,
        StateReason: c.stateReason,
        StateReasonCode:
          c.state === 'CREATING'
            ? 'CREATE_IN_PROGRESS'
            : c.state === 'DELETING'
              ? 'DELETE_IN_PROGRESS'
              : c.state === 'UPDATING'
                ? 'UPDATE_IN_PROGRESS'
                : c.updates > 0
                  ? 'UPDATE_COMPLETE'
                  : undefined,
      },
      Timeline: {
        Created: new Date(c.createdAt),
        LastModified: new Date(c.lastModified),
        LastStarted: c.lastStarted === undefined ? undefined : new Date(c.lastStarted),
        LastStopped: c.lastStopped === undefined ? undefined : new Date(c.lastStopped),
      },
      ArtifactS3Location: c.ArtifactS3Location.replace(/^s3:\/\//, ''),
      EngineArn: `arn:aws:lambda:${c.region}:${this.cloud.account}:function:${c.lambdaName}:1`,
      RuntimeVersion: c.RuntimeVersion,
      VpcConfig: c.VpcConfig ? { ...c.VpcConfig } : undefined,
      Tags: { ...c.tags },
    };
  }

  CreateCanary(region: string, input: CanarySettings & { Name: string; Tags?: Record<string, string> }) {
    const invalid = (message: string) => awsError('ValidationException', message, 400);
    // Name: lowercase letters, digits, hyphens and underscores, at most 21 characters
    // (https://docs.aws.amazon.com/AmazonSynthetics/latest/APIReference/API_CreateCanary.html).
    if (!/^[0-9a-z_-]{1,21}$/.test(input.Name)) throw invalid(`Invalid canary name ${input.Name}`);
    const canaries = this.regionMap(region);
    const existing = canaries.get(input.Name);
    if (existing) this.settle(existing);
    if (canaries.has(input.Name))
      throw awsError('ConflictException', `Canary ${input.Name} already exists.`, 409);
    const runtime = RUNTIME_VERSIONS.find((r) => r.VersionName === input.RuntimeVersion);
    if (!runtime) throw invalid(`Invalid runtime version ${input.RuntimeVersion}`);
    if (runtime.DeprecationDate && runtime.DeprecationDate.getTime() <= this.now()) {
      throw invalid(
        `Runtime version ${input.RuntimeVersion} is deprecated and cannot be used to create canaries.`,
      );
    }
    const every = rateMs(input.Schedule.Expression);
    if (every === undefined && input.Schedule.Expression !== 'rate(0 minute)') {
      throw invalid(`Invalid schedule expression ${input.Schedule.Expression}`);
    }
    const timeout = input.RunConfig?.TimeoutInSeconds ?? Math.min(840, (every ?? 60_000) / 1000);
    if (timeout < 3 || timeout > 840 || (every !== undefined && timeout * 1000 > every)) {
      throw invalid('TimeoutInSeconds must be between 3 and 840 and no longer than the canary frequency.');
    }
    if (!/^s3:\/\/[a-z0-9-]+(\/.*)?$/.test(input.ArtifactS3Location)) {
      throw invalid('ArtifactS3Location must be an S3 location whose bucket name has no period');
    }
    const { script, files } = this.checkCode(input.Code, invalid);
    // An execution role Lambda cannot assume yet (IAM eventual consistency, docs/design/timings.md row 11).
    const assumable = this.cloud.model(FakeIam).assumableBy(input.ExecutionRoleArn, 'lambda.amazonaws.com');
    if (assumable === 'missing') throw invalid(`Execution role ${input.ExecutionRoleArn} does not exist.`);
    const roleError = 'The role defined for the function cannot be assumed by Lambda.';
    if (assumable !== 'yes' && this.roleNotAssumable === 'refuse') throw invalid(roleError);

    const vpc = this.vpcOf(region, input.VpcConfig, invalid);
    const ec2 = this.cloud.model(FakeEc2).region(region);
    // The canary's Lambda in a VPC needs ec2:CreateNetworkInterface as IAM has spread it so far
    // (Lambda's check, lambda.ts); shown through the same switch as a role not assumable yet.
    const eniError =
      'The provided execution role does not have permissions to call CreateNetworkInterface on EC2';
    const eniDenied =
      vpc !== undefined &&
      !this.cloud.model(FakeIam).allows(input.ExecutionRoleArn, 'ec2:CreateNetworkInterface', '*', {
        seenBy: 'lambda.amazonaws.com',
      });
    if (eniDenied && this.roleNotAssumable === 'refuse') throw invalid(eniError);

    const id = this.uuid();
    // Synthetics reads the artifact bucket's location in the caller's name (the reason
    // CloudWatchSyntheticsFullAccess grants s3:GetBucketLocation).
    const bucket = /^s3:\/\/([^/]+)/.exec(input.ArtifactS3Location)?.[1];
    this.cloud.authorizer.onBehalf('synthetics', 'CreateCanary', region, {
      action: 's3:GetBucketLocation',
      resource: `arn:aws:s3:::${bucket}`,
    });
    const inCallersName = this.refusedInCallersName(region, input.Name, id, 'create');
    const c: FakeCanary = {
      Name: input.Name,
      Id: id,
      arn: `arn:aws:synthetics:${region}:${this.cloud.account}:canary:${input.Name}`,
      region,
      state: 'CREATING',
      until: this.now() + this.delay('canary.create'),
      Handler: input.Code.Handler,
      script,
      files,
      ArtifactS3Location: input.ArtifactS3Location,
      ExecutionRoleArn: input.ExecutionRoleArn,
      Expression: input.Schedule.Expression,
      DurationInSeconds: input.Schedule.DurationInSeconds ?? 0,
      TimeoutInSeconds: timeout,
      MemoryInMB: input.RunConfig?.MemoryInMB ?? 1000,
      EnvironmentVariables: { ...(input.RunConfig?.EnvironmentVariables ?? {}) },
      RuntimeVersion: input.RuntimeVersion,
      VpcConfig: vpc,
      SuccessRetentionPeriodInDays: input.SuccessRetentionPeriodInDays ?? 31,
      FailureRetentionPeriodInDays: input.FailureRetentionPeriodInDays ?? 31,
      tags: { ...(input.Tags ?? {}) },
      lambdaName: `cwsyn-${input.Name}-${id}`,
      createdAt: this.now(),
      lastModified: this.now(),
      runs: [],
      failReason: assumable !== 'yes' ? roleError : eniDenied ? eniError : inCallersName,
      updates: 0,
    };
    canaries.set(c.Name, c);
    if (c.failReason) return { Canary: this.describe(c) };
    const fn: LambdaFunction = { FunctionName: c.lambdaName, region, canary: c.Name, eniIds: [] };
    for (const subnetId of vpc?.SubnetIds ?? []) {
      const eniId = this.id('eni-');
      ec2.enis.set(eniId, {
        NetworkInterfaceId: eniId,
        SubnetId: subnetId,
        VpcId: vpc!.VpcId,
        groupIds: [...vpc!.SecurityGroupIds],
        PrivateIpAddress: ec2.allocateIp(subnetId),
        Description: `AWS Lambda VPC ENI-${c.lambdaName}`,
        owner: `lambda:${c.lambdaName}`,
      });
      fn.eniIds.push(eniId);
    }
    this.lambdas.set(fn.FunctionName, fn);
    return { Canary: this.describe(c) };
  }

  private vpcOf(
    region: string,
    input: { SubnetIds?: string[]; SecurityGroupIds?: string[] } | undefined,
    invalid: (m: string) => Error,
  ): FakeCanary['VpcConfig'] {
    if (!input?.SubnetIds?.length) return undefined;
    const ec2 = this.cloud.model(FakeEc2).region(region);
    const subnets = input.SubnetIds.map((id) => {
      const s = ec2.subnets.get(id);
      if (!s) throw invalid(`The subnet ID '${id}' does not exist`);
      return s;
    });
    const vpcId = subnets[0]!.VpcId;
    if (subnets.some((s) => s.VpcId !== vpcId)) throw invalid('Subnets must belong to one VPC');
    for (const g of input.SecurityGroupIds ?? []) {
      if (ec2.securityGroups.get(g)?.VpcId !== vpcId)
        throw invalid(`The security group '${g}' does not exist in ${vpcId}`);
    }
    return {
      VpcId: vpcId,
      SubnetIds: [...input.SubnetIds],
      SecurityGroupIds: [...(input.SecurityGroupIds ?? [])],
    };
  }

  /** The zip layout Synthetics requires for Node.js: nodejs/node_modules/<file>.js exporting the handler. */
  private checkCode(
    code: { Handler: string; ZipFile?: Uint8Array },
    invalid: (m: string) => Error,
  ): { script: string; files: Record<string, string> } {
    if (!code.ZipFile) throw invalid('Code.ZipFile is required (S3 code locations are not modelled)');
    const [file, fn] = code.Handler.split('.');
    if (!file || !fn) throw invalid(`Invalid handler ${code.Handler}: expected <file>.<function>`);
    let entries: Record<string, Uint8Array>;
    try {
      entries = unzipSync(code.ZipFile);
    } catch {
      throw invalid('Code.ZipFile is not a valid zip archive');
    }
    const entry = entries[`nodejs/node_modules/${file}.js`] ?? entries[`nodejs/node_modules/${file}.mjs`];
    if (!entry) {
      throw invalid(
        `The zip has no nodejs/node_modules/${file}.js for handler ${code.Handler} (it has ${Object.keys(entries).join(', ')})`,
      );
    }
    const script = strFromU8(entry);
    if (
      !new RegExp(`exports\\.${fn}\\s*=|export\\s+(const|async function|function)\\s+${fn}\\b`).test(script)
    ) {
      throw invalid(`nodejs/node_modules/${file}.js does not export ${fn}`);
    }
    // Synthetics unpacks the zip as a Lambda layer: nodejs/node_modules/ is /opt/nodejs/node_modules/.
    const files = Object.fromEntries(
      Object.entries(entries)
        .filter(([k]) => k.startsWith('nodejs/node_modules/') && !k.endsWith('/'))
        .map(([k, v]) => [k.slice('nodejs/node_modules/'.length), strFromU8(v)]),
    );
    return { script, files };
  }

  private uuid(): string {
    const hex = Array.from({ length: 32 }, () => Math.floor(this.cloud.random() * 16).toString(16)).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }

  GetCanary(region: string, input: { Name: string }) {
    return { Canary: this.describe(this.canary(region, input.Name)) };
  }

  DescribeCanaries(region: string, input: { Names?: string[]; MaxResults?: number; NextToken?: string }) {
    this.settleAll();
    const all = [...this.regionMap(region).values()]
      .filter((c) => !input.Names || input.Names.includes(c.Name))
      .sort((a, b) => a.Name.localeCompare(b.Name));
    const { items, next } = page(
      this.cloud,
      all,
      { token: input.NextToken, limit: input.MaxResults },
      {
        command: 'DescribeCanaries',
        defaultSize: 20,
        maxSize: 20,
        key: (c) => c.Name,
        badToken: { name: 'ValidationException' },
      },
    );
    return { Canaries: items.map((c) => this.describe(c)), NextToken: next };
  }

  GetCanaryRuns(region: string, input: { Name: string; MaxResults?: number; NextToken?: string }) {
    const c = this.canary(region, input.Name);
    const { items: runs, next } = page(
      this.cloud,
      [...c.runs].reverse(),
      { token: input.NextToken, limit: input.MaxResults },
      {
        command: `GetCanaryRuns/${c.Name}`,
        defaultSize: 100,
        maxSize: 100,
        key: (r) => r.Id,
        badToken: { name: 'ValidationException' },
      },
    );
    return {
      NextToken: next,
      CanaryRuns: runs.map((r) => ({
        Id: r.Id,
        Name: c.Name,
        Status: {
          State: r.outcome === 'pass' ? 'PASSED' : 'FAILED',
          StateReason: r.error ?? (r.outcome === 'silent' ? 'No test result returned.' : undefined),
          StateReasonCode: r.error ? 'CANARY_FAILURE' : undefined,
        },
        Timeline: { Started: new Date(r.at - 1200), Completed: new Date(r.at) },
      })),
    };
  }

  DescribeRuntimeVersions(_region: string, input: { MaxResults?: number; NextToken?: string }) {
    const { items, next } = page(
      this.cloud,
      RUNTIME_VERSIONS,
      { token: input.NextToken, limit: input.MaxResults },
      {
        command: 'DescribeRuntimeVersions',
        defaultSize: 100,
        maxSize: 100,
        key: (r) => r.VersionName,
        badToken: { name: 'ValidationException' },
      },
    );
    return { RuntimeVersions: items.map((r) => ({ ...r })), NextToken: next };
  }

  StartCanary(region: string, input: { Name: string }) {
    const c = this.canary(region, input.Name);
    if (c.state !== 'READY' && c.state !== 'STOPPED') {
      throw awsError('ConflictException', `Canary ${c.Name} is not in a startable state: ${c.state}`, 409);
    }
    c.state = 'STARTING';
    c.until = this.now() + this.delay('canary.start');
    return {};
  }

  StopCanary(region: string, input: { Name: string }) {
    const c = this.canary(region, input.Name);
    if (c.state !== 'RUNNING') {
      throw awsError('ConflictException', `Canary ${c.Name} is not in a stoppable state: ${c.state}`, 409);
    }
    c.state = 'STOPPING';
    c.nextRunAt = undefined;
    c.until = this.now() + this.delay('canary.stop');
    return {};
  }

  /**
   * UpdateCanary (https://docs.aws.amazon.com/AmazonSynthetics/latest/APIReference/API_UpdateCanary.html):
   * everything but the name and tags may change. Refused with ConflictException ("A conflicting
   * operation is already in progress") while CREATING, UPDATING, STARTING, STOPPING or DELETING,
   * as the CloudFormation handler of AWS::Synthetics::Canary expects (it fails on CREATING and
   * UPDATING, waits out STARTING and STOPPING). From READY, STOPPED, RUNNING or ERROR the canary
   * is UPDATING for 'canary.update' and then back where it was (ERROR: READY); a RUNNING canary
   * stays RUNNING, restarted (LastStarted moves, StateReasonCode UPDATE_COMPLETE:
   * https://repost.aws/questions/QUOHCi3cx8TzGKEWss-jCa8w). No run happens while UPDATING (how
   * long runs pause is not documented: the fake takes the gap), and the new code and settings
   * take effect from the next run after it.
   */
  UpdateCanary(region: string, input: Partial<CanarySettings> & { Name: string }) {
    const invalid = (message: string) => awsError('ValidationException', message, 400);
    const c = this.canary(region, input.Name);
    if (!['READY', 'STOPPED', 'RUNNING', 'ERROR'].includes(c.state)) {
      throw awsError(
        'ConflictException',
        `A conflicting operation is already in progress: canary ${c.Name} is ${c.state}.`,
        409,
      );
    }
    const changes: CanaryUpdate = {};
    if (input.RuntimeVersion !== undefined) {
      const runtime = RUNTIME_VERSIONS.find((r) => r.VersionName === input.RuntimeVersion);
      if (!runtime) throw invalid(`Invalid runtime version ${input.RuntimeVersion}`);
      if (runtime.DeprecationDate && runtime.DeprecationDate.getTime() <= this.now())
        throw invalid(`Runtime version ${input.RuntimeVersion} is deprecated.`);
      changes.RuntimeVersion = input.RuntimeVersion;
    }
    const expression = input.Schedule?.Expression ?? c.Expression;
    const every = rateMs(expression);
    if (every === undefined && expression !== 'rate(0 minute)')
      throw invalid(`Invalid schedule expression ${expression}`);
    const timeout = input.RunConfig?.TimeoutInSeconds ?? c.TimeoutInSeconds;
    if (timeout < 3 || timeout > 840 || (every !== undefined && timeout * 1000 > every)) {
      throw invalid('TimeoutInSeconds must be between 3 and 840 and no longer than the canary frequency.');
    }
    if (input.Schedule) {
      changes.Expression = input.Schedule.Expression;
      changes.DurationInSeconds = input.Schedule.DurationInSeconds ?? 0;
    }
    if (input.RunConfig) {
      changes.TimeoutInSeconds = timeout;
      if (input.RunConfig.MemoryInMB !== undefined) changes.MemoryInMB = input.RunConfig.MemoryInMB;
      if (input.RunConfig.EnvironmentVariables)
        changes.EnvironmentVariables = { ...input.RunConfig.EnvironmentVariables };
    }
    if (input.ArtifactS3Location !== undefined) {
      if (!/^s3:\/\/[a-z0-9-]+(\/.*)?$/.test(input.ArtifactS3Location))
        throw invalid('ArtifactS3Location must be an S3 location whose bucket name has no period');
      changes.ArtifactS3Location = input.ArtifactS3Location;
    }
    if (input.Code) {
      const { script, files } = this.checkCode(input.Code, invalid);
      Object.assign(changes, { Handler: input.Code.Handler, script, files });
    }
    if (input.ExecutionRoleArn !== undefined) {
      const assumable = this.cloud.model(FakeIam).assumableBy(input.ExecutionRoleArn, 'lambda.amazonaws.com');
      if (assumable === 'missing') throw invalid(`Execution role ${input.ExecutionRoleArn} does not exist.`);
      if (assumable !== 'yes')
        throw invalid('The role defined for the function cannot be assumed by Lambda.');
      changes.ExecutionRoleArn = input.ExecutionRoleArn;
    }
    if (input.VpcConfig) changes.VpcConfig = this.vpcOf(region, input.VpcConfig, invalid);
    for (const k of ['SuccessRetentionPeriodInDays', 'FailureRetentionPeriodInDays'] as const) {
      const v = input[k];
      if (v === undefined) continue;
      if (v < 1 || v > 455) throw invalid(`${k} must be between 1 and 455`);
      changes[k] = v;
    }
    // New code is a new layer version and function code; run, VPC and role settings are the
    // function's configuration: Synthetics changes each with the caller's permissions.
    const ops: Array<'updateCode' | 'updateConfiguration'> = [
      ...(input.Code ? (['updateCode'] as const) : []),
      ...(input.RunConfig || input.VpcConfig || input.ExecutionRoleArn || input.RuntimeVersion
        ? (['updateConfiguration'] as const)
        : []),
    ];
    for (const op of ops) {
      const refused = this.refusedInCallersName(region, c.Name, c.Id, op);
      if (refused) throw awsError('AccessDeniedException', refused, 403);
    }
    c.update = { changes, resume: c.state };
    c.state = 'UPDATING';
    c.nextRunAt = undefined;
    c.until = this.now() + this.delay('canary.update');
    return {};
  }

  DeleteCanary(region: string, input: { Name: string; DeleteLambda?: boolean }) {
    const c = this.canary(region, input.Name);
    if (!DELETABLE.has(c.state)) {
      throw awsError('ConflictException', `Canary ${c.Name} cannot be deleted in state ${c.state}`, 409);
    }
    if (input.DeleteLambda) {
      const refused = this.refusedInCallersName(region, c.Name, c.Id, 'delete');
      if (refused) throw awsError('AccessDeniedException', refused, 403);
    }
    c.state = 'DELETING';
    c.deleteLambda = input.DeleteLambda ?? false;
    c.until = this.now() + this.delay('canary.delete');
    return {};
  }

  /**
   * Synthetics makes and deletes the canary's function and layer with the caller's permissions
   * (authz/on-behalf.ts): the refusal's text, or undefined when IAM allows all of it.
   */
  private refusedInCallersName(
    region: string,
    name: string,
    id: string,
    op: keyof typeof CANARY_FUNCTION_ACTIONS,
  ): string | undefined {
    const lambda = `arn:aws:lambda:${region}:${this.cloud.account}`;
    const actions: { function: readonly string[]; layer: readonly string[] } = CANARY_FUNCTION_ACTIONS[op];
    const layered = op === 'create' || op === 'updateCode';
    const checks = [
      ...actions.function.map((action) => ({
        action,
        resource: `${lambda}:function:cwsyn-${name}-${id}`,
      })),
      ...(layered
        ? [
            { action: 'lambda:GetLayerVersion', resource: `${lambda}:layer:cwsyn-${name}-${id}:1` },
            { action: 'lambda:GetLayerVersion', resource: SYNTHETICS_RUNTIME_LAYER(region) },
          ]
        : []),
      ...actions.layer.map((action) => ({
        action,
        // Publishing names the layer; deleting names a version of it.
        resource: `${lambda}:layer:cwsyn-${name}-${id}${op === 'delete' ? ':1' : ''}`,
      })),
    ];
    for (const c of checks) {
      try {
        this.cloud.authorizer.onBehalf('synthetics', `${op}:${name}`, region, c);
      } catch (e) {
        return (e as Error).message;
      }
    }
    return undefined;
  }

  private byArn(arn: string): FakeCanary {
    const m = /^arn:aws:synthetics:([a-z0-9-]+):\d+:canary:(.+)$/.exec(arn);
    if (!m) throw awsError('ValidationException', `Invalid ARN ${arn}`);
    return this.canary(m[1]!, m[2]!);
  }

  TagResource(_region: string, input: { ResourceArn: string; Tags: Record<string, string> }) {
    Object.assign(this.byArn(input.ResourceArn).tags, input.Tags);
    return {};
  }

  ListTagsForResource(_region: string, input: { ResourceArn: string }) {
    return { Tags: { ...this.byArn(input.ResourceArn).tags } };
  }

  snapshot(): string[] {
    this.settleAll();
    const out: string[] = [];
    for (const [region, m] of this.canaries) {
      for (const c of m.values()) out.push(`synthetics/${region}/canary/${c.Name}(${c.state})`);
    }
    for (const fn of this.lambdas.values()) out.push(`lambda/${fn.region}/function/${fn.FunctionName}`);
    return out;
  }
}
