import { Route53Client } from '@aws-sdk/client-route-53';
import { ROUTE53_REGION, type AwsClients } from '../aws/clients.js';
import type { Clock } from '../lib/clock.js';
import { type Config, regionsOf } from '../config/config.js';
import { OutputNotRecorded, outputField } from '../state/outputs.js';
import type { State } from '../state/schema.js';
import type { StepInfo } from '../steps/index.js';

// The checks behind `drctl verify`: each is a small function of the recorded state and read-only
// AWS calls, returning one line per thing it checked (ok / warn / fail, with the fix). A check that
// cannot read what it needs throws; the caller turns that into "could not check" (exit 1).
// Nothing here may send a mutating call: `verify` runs from cron and CI. The one Invoke is the
// probe function, which only resolves a name and GETs the health path (src/assets/probe-function.ts).
// This file: what a check is, and the helpers every check uses; checks.ts lists them, in order.

export type Verdict = 'ok' | 'warn' | 'fail' | 'error';

export interface CheckLine {
  /** The check's id (stable, for scripts): `probe`, `certificate`, ... */
  check: string;
  /** The region it is about, when it is about one. */
  region?: string;
  status: Verdict;
  text: string;
  /** What to do when it is not ok. */
  fix?: string;
}

export interface VerifyContext {
  config: Config;
  state: Readonly<State>;
  aws: AwsClients;
  clock: Clock;
  steps: readonly StepInfo[];
  /** `status --refresh`'s look-up: the recorded resources each step finds gone. */
  missingResources(): Promise<Array<{ step: string; scope: string; missing: string[] }>>;
}

export interface VerifyCheck {
  id: string;
  title: string;
  run(ctx: VerifyContext): Promise<CheckLine[]>;
}

export const UP = 'Run `drctl up`: it puts back what it built.';

/** Where clients reach a region: its NLB, or with domainMode private its execute-api endpoint. */
export function entryOf(ctx: VerifyContext, region: string): { dns: string; what: string } {
  return ctx.config.domainMode === 'private'
    ? { dns: outputField(ctx.state, 'domain', region, 'endpointDnsName'), what: `${region} endpoint` }
    : { dns: outputField(ctx.state, 'nlb', region, 'dnsName'), what: `${region} NLB` };
}

/** domainMode private has no NLB: the NLB checks have nothing to look at. */
export const noNlb = (ctx: VerifyContext) => ctx.config.domainMode === 'private';

export const ok = (check: string, text: string, region?: string): CheckLine => ({
  check,
  region,
  status: 'ok',
  text,
});
export const fail = (check: string, text: string, fix: string, region?: string): CheckLine => ({
  check,
  region,
  status: 'fail',
  text,
  fix,
});
export const warn = (check: string, text: string, fix: string, region?: string): CheckLine => ({
  check,
  region,
  status: 'warn',
  text,
  fix,
});

export const fqdn = (n: string | undefined) => (n ?? '').toLowerCase().replace(/\.$/, '');
export const route53 = (ctx: VerifyContext) => ctx.aws.client(Route53Client, ROUTE53_REGION);

/** Run a per-region body for both regions; a OutputNotRecorded becomes that region's failure. */
export async function perRegion(
  ctx: VerifyContext,
  check: string,
  body: (region: string) => Promise<CheckLine[]>,
): Promise<CheckLine[]> {
  const lines = await Promise.all(
    regionsOf(ctx.config).map((r) =>
      body(r).catch((e: unknown) => {
        if (e instanceof OutputNotRecorded) return [fail(check, e.message, UP, r)];
        throw e;
      }),
    ),
  );
  return lines.flat();
}

export async function global(check: string, body: () => Promise<CheckLine[]>): Promise<CheckLine[]> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof OutputNotRecorded) return [fail(check, e.message, UP)];
    throw e;
  }
}

/** The health check of a region's role, as the health-check step records it. */
export const healthCheckKey = (role: 'primary' | 'secondary') =>
  role === 'primary' ? 'primaryHealthCheckId' : 'secondaryHealthCheckId';
