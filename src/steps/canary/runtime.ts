import {
  paginateDescribeRuntimeVersions,
  type RuntimeVersion,
  SyntheticsClient,
} from '@aws-sdk/client-synthetics';
import { collect } from '../../aws/pages.js';
import { AwsStepError } from '../../errors/errors.js';
import type { Ctx } from './common.js';

// Which Synthetics runtime a new canary gets.

function versionOf(name: string, family: RegExp): number[] | undefined {
  const m = family.exec(name);
  return m ? m.slice(1).map(Number) : undefined;
}

/**
 * The newest current Node.js runtime: Puppeteer family first (our script needs no browser, but
 * every Node family runs it), then the browserless syn-nodejs-N. Deprecated runtimes cannot make
 * new canaries (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Runtime_Support_Policy.html).
 */
export function pickRuntime(versions: RuntimeVersion[]): string | undefined {
  const current = versions.filter((v) => v.VersionName && !v.DeprecationDate);
  for (const family of [/^syn-nodejs-puppeteer-(\d+)\.(\d+)$/, /^syn-nodejs-(\d+)\.(\d+)$/]) {
    const ranked = current
      .map((v) => ({ name: v.VersionName!, version: versionOf(v.VersionName!, family) }))
      .filter((v): v is { name: string; version: number[] } => v.version !== undefined)
      .sort((a, b) => b.version[0]! - a.version[0]! || b.version[1]! - a.version[1]!);
    if (ranked.length) return ranked[0]!.name;
  }
  return undefined;
}

export async function chooseRuntime(ctx: Ctx): Promise<string> {
  const client = ctx.aws.client(SyntheticsClient, ctx.region);
  const all = await collect(paginateDescribeRuntimeVersions({ client }, {}), (p) => p.RuntimeVersions);
  const picked = pickRuntime(all);
  if (!picked) {
    throw new AwsStepError(`no current Node.js Synthetics runtime in ${ctx.region}`, {
      resource: 'DescribeRuntimeVersions',
      resolution: 'Check CloudWatch Synthetics runtime availability in this region.',
    });
  }
  return picked;
}
