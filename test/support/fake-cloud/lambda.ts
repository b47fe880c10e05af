import { createHash } from 'node:crypto';
import { strFromU8, unzipSync } from 'fflate';
import { FakeService } from './cloud.js';
import { FakeEc2 } from './ec2.js';
import { awsError } from './errors.js';
import { FakeIam } from './iam.js';
import { FakeNetwork } from './network.js';

// AWS Lambda, per region: the functions drctl makes itself (the failover probe). Canary functions
// belong to the synthetics model. Behaviours (https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html):
// - CreateFunction returns at once with State Pending; Active after 'lambda.create' (VPC functions
//   make their Hyperplane ENIs meanwhile: one per subnet, Description `AWS Lambda VPC ENI-<name>`).
//   Invoke and updates while Pending, and updates while LastUpdateStatus is InProgress
//   ('lambda.update'), fail with ResourceConflictException.
// - A name is unique per region: a second CreateFunction is ResourceConflictException ("Function
//   already exist"); there is no idempotency token.
// - The execution role must be assumable by lambda.amazonaws.com (IAM propagation: 'iam.propagate'),
//   and for a VPC function allow ec2:CreateNetworkInterface, else InvalidParameterValueException;
//   a policy put within 'iam.policyPropagate' does not count yet, with the same error.
// - The zip must hold the handler's file and export its function; CodeSha256 is the base64 SHA-256
//   of the zip, as Lambda reports it.
// - DeleteFunction removes the function at once; its ENIs go 'lambda.eniRelease' later (20-45 min,
//   docs/design/timings.md row 9), and until then they block the subnets' and security group's deletion.
// - Invoke runs the function's program against the fake network. Only drctl's probe is modelled
//   (src/assets/probe-function.ts, recognised by its marker line): it resolves PROBE_HOST (or the
//   event's `via`) through the VPC's resolver and GETs the event's `path` (else PROBE_PATH) over HTTPS through each answer
//   in turn, trusting ca-bundle.pem from the zip; it returns what it saw.

export const PROBE_MARKER = 'drctl failover probe';

const RUNTIMES = new Set(['nodejs20.x', 'nodejs22.x', 'nodejs24.x', 'python3.12', 'python3.13']);
const DEPRECATED = new Set([
  'nodejs12.x',
  'nodejs14.x',
  'nodejs16.x',
  'nodejs18.x',
  'python3.7',
  'python3.8',
]);

export interface FakeFunction {
  FunctionName: string;
  FunctionArn: string;
  region: string;
  Runtime: string;
  Role: string;
  Handler: string;
  Timeout: number;
  MemorySize: number;
  Description: string;
  env: Record<string, string>;
  vpc?: { VpcId: string; SubnetIds: string[]; SecurityGroupIds: string[] };
  files: Record<string, string>;
  CodeSha256: string;
  CodeSize: number;
  tags: Record<string, string>;
  activeAt: number;
  updatedUntil: number;
  lastModified: number;
  eniIds: string[];
  invocations: number;
}

interface VpcConfigInput {
  SubnetIds?: string[];
  SecurityGroupIds?: string[];
}

export class FakeLambda extends FakeService {
  readonly service = 'lambda';
  readonly functions = new Map<string, FakeFunction>();

  private key(region: string, name: string): string {
    return `${region}|${name}`;
  }

  private fn(region: string, nameOrArn: string | undefined): FakeFunction {
    const name = (nameOrArn ?? '').replace(/^arn:aws[a-z-]*:lambda:[^:]+:\d+:function:/, '').split(':')[0]!;
    const f = this.functions.get(this.key(region, name));
    if (!f) {
      throw awsError(
        'ResourceNotFoundException',
        `Function not found: arn:aws:lambda:${region}:${this.cloud.account}:function:${name}`,
        404,
      );
    }
    return f;
  }

  private state(f: FakeFunction): 'Pending' | 'Active' {
    return this.now() < f.activeAt ? 'Pending' : 'Active';
  }

  private busy(f: FakeFunction): void {
    if (this.state(f) === 'Pending') {
      throw awsError(
        'ResourceConflictException',
        `The operation cannot be performed at this time. The function is currently in the following state: Pending`,
        409,
      );
    }
    if (this.now() < f.updatedUntil) {
      throw awsError(
        'ResourceConflictException',
        `The operation cannot be performed at this time. An update is in progress for resource: ${f.FunctionArn}`,
        409,
      );
    }
  }

  private configuration(f: FakeFunction) {
    const updating = this.now() < f.updatedUntil;
    return {
      FunctionName: f.FunctionName,
      FunctionArn: f.FunctionArn,
      Runtime: f.Runtime,
      Role: f.Role,
      Handler: f.Handler,
      CodeSize: f.CodeSize,
      CodeSha256: f.CodeSha256,
      Description: f.Description,
      Timeout: f.Timeout,
      MemorySize: f.MemorySize,
      LastModified: new Date(f.lastModified).toISOString().replace('Z', '+0000'),
      Version: '$LATEST',
      Environment: { Variables: { ...f.env } },
      VpcConfig: f.vpc
        ? {
            VpcId: f.vpc.VpcId,
            SubnetIds: [...f.vpc.SubnetIds],
            SecurityGroupIds: [...f.vpc.SecurityGroupIds],
          }
        : undefined,
      State: this.state(f),
      StateReason: this.state(f) === 'Pending' ? 'The function is being created.' : undefined,
      StateReasonCode: this.state(f) === 'Pending' ? 'Creating' : undefined,
      LastUpdateStatus: updating ? 'InProgress' : 'Successful',
      PackageType: 'Zip',
      Architectures: ['x86_64'],
    };
  }

  private invalid(message: string) {
    return awsError('InvalidParameterValueException', message, 400);
  }

  private checkRole(role: string, vpc: boolean): void {
    const iam = this.cloud.model(FakeIam);
    if (iam.assumableBy(role, 'lambda.amazonaws.com') !== 'yes') {
      throw this.invalid('The role defined for the function cannot be assumed by Lambda.');
    }
    // Lambda checks the permission as IAM has spread it so far: a policy put seconds ago may not
    // count yet ('iam.policyPropagate').
    if (vpc && !iam.allows(role, 'ec2:CreateNetworkInterface', '*', { seenBy: 'lambda.amazonaws.com' })) {
      throw this.invalid(
        'The provided execution role does not have permissions to call CreateNetworkInterface on EC2',
      );
    }
  }

  private checkRuntime(runtime: string | undefined): string {
    if (runtime && DEPRECATED.has(runtime)) {
      throw this.invalid(
        `The runtime parameter of ${runtime} is no longer supported for creating or updating AWS Lambda functions.`,
      );
    }
    if (!runtime || !RUNTIMES.has(runtime))
      throw this.invalid(`Value ${runtime} at 'runtime' failed to satisfy constraint`);
    return runtime;
  }

  private vpcOf(region: string, input: VpcConfigInput | undefined): FakeFunction['vpc'] {
    if (!input?.SubnetIds?.length) return undefined;
    const ec2 = this.cloud.model(FakeEc2).region(region);
    const subnets = input.SubnetIds.map((id) => {
      const s = ec2.subnets.get(id);
      if (!s)
        throw this.invalid(
          `Error occurred while DescribeSubnets. EC2 Error Code: InvalidSubnetID.NotFound. EC2 Error Message: The subnet ID '${id}' does not exist`,
        );
      return s;
    });
    const vpcId = subnets[0]!.VpcId;
    if (subnets.some((s) => s.VpcId !== vpcId)) throw this.invalid('Subnets must belong to the same VPC');
    if (!input.SecurityGroupIds?.length) throw this.invalid('SecurityGroupIds are required with SubnetIds');
    for (const g of input.SecurityGroupIds) {
      if (ec2.securityGroups.get(g)?.VpcId !== vpcId) {
        throw this.invalid(
          `Error occurred while DescribeSecurityGroups. EC2 Error Code: InvalidGroup.NotFound. EC2 Error Message: The security group '${g}' does not exist`,
        );
      }
    }
    return { VpcId: vpcId, SubnetIds: [...input.SubnetIds], SecurityGroupIds: [...input.SecurityGroupIds] };
  }

  private code(
    zip: Uint8Array | undefined,
    handler: string,
  ): { files: Record<string, string>; sha: string; size: number } {
    if (!zip) throw this.invalid('Code.ZipFile is required (S3 code locations are not modelled)');
    let entries: Record<string, Uint8Array>;
    try {
      entries = unzipSync(zip);
    } catch {
      throw this.invalid('Could not unzip uploaded file. Please check your file, then try to upload again.');
    }
    const files = Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, strFromU8(v)]));
    const [file, fn] = handler.split('.');
    const source = files[`${file}.mjs`] ?? files[`${file}.js`];
    if (!file || !fn || source === undefined) {
      throw this.invalid(
        `The handler ${handler} names no file of the zip (it has ${Object.keys(files).join(', ')})`,
      );
    }
    if (
      !new RegExp(`export\\s+(const|async function|function)\\s+${fn}\\b|exports\\.${fn}\\s*=`).test(source)
    ) {
      throw this.invalid(`${file} does not export ${fn}`);
    }
    return { files, sha: createHash('sha256').update(zip).digest('base64'), size: zip.length };
  }

  private makeEnis(f: FakeFunction): void {
    if (!f.vpc) return;
    const ec2 = this.cloud.model(FakeEc2).region(f.region);
    for (const subnetId of f.vpc.SubnetIds) {
      const eniId = this.id('eni-');
      ec2.enis.set(eniId, {
        NetworkInterfaceId: eniId,
        SubnetId: subnetId,
        VpcId: f.vpc.VpcId,
        groupIds: [...f.vpc.SecurityGroupIds],
        PrivateIpAddress: ec2.allocateIp(subnetId),
        Description: `AWS Lambda VPC ENI-${f.FunctionName}`,
        owner: `lambda:${f.FunctionName}`,
      });
      f.eniIds.push(eniId);
    }
  }

  private releaseEnis(f: FakeFunction): void {
    const enis = this.cloud.model(FakeEc2).region(f.region).enis;
    for (const id of f.eniIds) {
      const eni = enis.get(id);
      // Lambda keeps Hyperplane ENIs for a while after the function goes (docs/design/timings.md row 9).
      if (eni && eni.releaseAt === undefined) eni.releaseAt = this.now() + this.delay('lambda.eniRelease');
    }
    f.eniIds = [];
  }

  CreateFunction(
    region: string,
    input: {
      FunctionName?: string;
      Runtime?: string;
      Role?: string;
      Handler?: string;
      Code?: { ZipFile?: Uint8Array };
      Description?: string;
      Timeout?: number;
      MemorySize?: number;
      Environment?: { Variables?: Record<string, string> };
      VpcConfig?: VpcConfigInput;
      Tags?: Record<string, string>;
    },
  ) {
    const name = input.FunctionName ?? '';
    if (!/^[a-zA-Z0-9-_]{1,64}$/.test(name)) throw this.invalid(`Invalid function name ${name}`);
    if (this.functions.has(this.key(region, name))) {
      throw awsError('ResourceConflictException', `Function already exist: ${name}`, 409);
    }
    const runtime = this.checkRuntime(input.Runtime);
    const vpc = this.vpcOf(region, input.VpcConfig);
    this.checkRole(input.Role ?? '', vpc !== undefined);
    const handler = input.Handler ?? '';
    const code = this.code(input.Code?.ZipFile, handler);
    const f: FakeFunction = {
      FunctionName: name,
      FunctionArn: `arn:aws:lambda:${region}:${this.cloud.account}:function:${name}`,
      region,
      Runtime: runtime,
      Role: input.Role!,
      Handler: handler,
      Timeout: input.Timeout ?? 3,
      MemorySize: input.MemorySize ?? 128,
      Description: input.Description ?? '',
      env: { ...(input.Environment?.Variables ?? {}) },
      vpc,
      files: code.files,
      CodeSha256: code.sha,
      CodeSize: code.size,
      tags: { ...(input.Tags ?? {}) },
      activeAt: this.now() + this.delay('lambda.create'),
      updatedUntil: 0,
      lastModified: this.now(),
      eniIds: [],
      invocations: 0,
    };
    this.makeEnis(f);
    this.functions.set(this.key(region, name), f);
    return this.configuration(f);
  }

  GetFunction(region: string, input: { FunctionName?: string }) {
    const f = this.fn(region, input.FunctionName);
    return {
      Configuration: this.configuration(f),
      Code: {
        RepositoryType: 'S3',
        Location: `https://awslambda-${region}-tasks.s3.${region}.amazonaws.com/snapshots/${f.FunctionName}`,
      },
      // "Lambda returns tag data only if you have explicit allow permissions for lambda:ListTags"
      // (https://docs.aws.amazon.com/lambda/latest/api/API_GetFunction.html).
      ...(this.cloud.authorizer.allows('lambda', 'GetFunction', region, {
        action: 'lambda:ListTags',
        resource: `arn:aws:lambda:${region}:${this.cloud.account}:function:${f.FunctionName}`,
      })
        ? { Tags: { ...f.tags } }
        : {}),
    };
  }

  GetFunctionConfiguration(region: string, input: { FunctionName?: string }) {
    return this.configuration(this.fn(region, input.FunctionName));
  }

  UpdateFunctionCode(region: string, input: { FunctionName?: string; ZipFile?: Uint8Array }) {
    const f = this.fn(region, input.FunctionName);
    this.busy(f);
    const code = this.code(input.ZipFile, f.Handler);
    Object.assign(f, {
      files: code.files,
      CodeSha256: code.sha,
      CodeSize: code.size,
      lastModified: this.now(),
    });
    f.updatedUntil = this.now() + this.delay('lambda.update');
    return this.configuration(f);
  }

  UpdateFunctionConfiguration(
    region: string,
    input: {
      FunctionName?: string;
      Role?: string;
      Handler?: string;
      Runtime?: string;
      Timeout?: number;
      MemorySize?: number;
      Description?: string;
      Environment?: { Variables?: Record<string, string> };
      VpcConfig?: VpcConfigInput;
    },
  ) {
    const f = this.fn(region, input.FunctionName);
    this.busy(f);
    const runtime = input.Runtime === undefined ? f.Runtime : this.checkRuntime(input.Runtime);
    const vpc = input.VpcConfig === undefined ? f.vpc : this.vpcOf(region, input.VpcConfig);
    const role = input.Role ?? f.Role;
    this.checkRole(role, vpc !== undefined);
    if (input.Handler !== undefined) {
      const [file] = input.Handler.split('.');
      if (f.files[`${file}.mjs`] === undefined && f.files[`${file}.js`] === undefined)
        throw this.invalid(`The handler ${input.Handler} names no file of the zip`);
    }
    const sameVpc = JSON.stringify(vpc) === JSON.stringify(f.vpc);
    Object.assign(f, {
      Runtime: runtime,
      Role: role,
      Handler: input.Handler ?? f.Handler,
      Timeout: input.Timeout ?? f.Timeout,
      MemorySize: input.MemorySize ?? f.MemorySize,
      Description: input.Description ?? f.Description,
      env: input.Environment ? { ...(input.Environment.Variables ?? {}) } : f.env,
      vpc,
      lastModified: this.now(),
    });
    if (!sameVpc) {
      this.releaseEnis(f);
      this.makeEnis(f);
    }
    f.updatedUntil = this.now() + this.delay('lambda.update');
    return this.configuration(f);
  }

  DeleteFunction(region: string, input: { FunctionName?: string }) {
    const f = this.fn(region, input.FunctionName);
    this.functions.delete(this.key(region, f.FunctionName));
    this.releaseEnis(f);
    return {};
  }

  TagResource(region: string, input: { Resource?: string; Tags?: Record<string, string> }) {
    Object.assign(this.fn(region, input.Resource).tags, input.Tags ?? {});
    return {};
  }

  ListTags(region: string, input: { Resource?: string }) {
    return { Tags: { ...this.fn(region, input.Resource).tags } };
  }

  Invoke(region: string, input: { FunctionName?: string; Payload?: Uint8Array; InvocationType?: string }) {
    const f = this.fn(region, input.FunctionName);
    if (this.state(f) === 'Pending') this.busy(f);
    if (input.InvocationType && input.InvocationType !== 'RequestResponse') {
      throw this.invalid('Only RequestResponse invocations are modelled');
    }
    f.invocations++;
    let event: Record<string, unknown> = {};
    try {
      event = input.Payload?.length ? (JSON.parse(strFromU8(input.Payload)) as Record<string, unknown>) : {};
    } catch {
      throw awsError('InvalidRequestContentException', 'Could not parse request body into json', 400);
    }
    const [file] = f.Handler.split('.');
    const source = f.files[`${file}.mjs`] ?? f.files[`${file}.js`] ?? '';
    if (!source.includes(PROBE_MARKER)) {
      const error = { errorType: 'NotModelled', errorMessage: 'the fake cloud runs only the drctl probe' };
      return { StatusCode: 200, FunctionError: 'Unhandled', Payload: Buffer.from(JSON.stringify(error)) };
    }
    const result = this.runProbe(f, event);
    return { StatusCode: 200, ExecutedVersion: '$LATEST', Payload: Buffer.from(JSON.stringify(result)) };
  }

  /** What src/assets/probe-function.ts does, on the fake network. */
  private runProbe(f: FakeFunction, event: Record<string, unknown>) {
    const host = f.env.PROBE_HOST ?? '';
    // The event's path first (the callers send api.healthPath), as the handler does.
    const path =
      typeof event.path === 'string' && event.path.startsWith('/') ? event.path : (f.env.PROBE_PATH ?? '/health');
    const via = typeof event.via === 'string' ? event.via : undefined;
    const network = this.cloud.model(FakeNetwork);
    const ec2 = this.cloud.model(FakeEc2);
    const from = ec2.liveEnis(f.region).find((e) => f.eniIds.includes(e.NetworkInterfaceId));
    const base = { host, via, path, checkedAt: new Date(this.now()).toISOString() };
    if (!from || !f.vpc)
      return { ...base, answer: [], error: 'ENETUNREACH: the function has no network interface' };
    const caBundle = f.files['ca-bundle.pem'] ?? '';
    const r = network.clientGet(f.region, from, via ?? host, host, path, caBundle);
    if (r.answer.length === 0 && r.error) return { ...base, answer: [], error: r.error };
    const last = r.address === undefined ? undefined : r;
    const region = (() => {
      try {
        const parsed = JSON.parse(last?.body ?? '') as { region?: unknown };
        return typeof parsed.region === 'string' ? parsed.region : undefined;
      } catch {
        return undefined;
      }
    })();
    return {
      ...base,
      answer: r.answer,
      ttlSeconds: r.ttlSeconds,
      address: last?.address,
      status: last?.status,
      region,
      body: last?.body?.slice(0, 500),
      error: last?.error,
      elapsedMs: 40,
    };
  }

  snapshot(): string[] {
    return [...this.functions.values()].map((f) => `lambda/${f.region}/function/${f.FunctionName}`);
  }
}
