import type { ProbeResult } from '../../assets/probe-function.js';
import type { AwsClients } from '../../aws/clients.js';
import { callProbe } from '../../aws/probe-invoke.js';
import { pollUntil } from '../../aws/wait.js';
import { healthPathOf } from '../../config/api-source.js';
import { type Config, regionsOf } from '../../config/config.js';
import { AwsStepError } from '../../errors/errors.js';
import type { Clock } from '../../lib/clock.js';

// The private custom domain answering (domainMode private), asked through the probe. Apart from
// the step so that `up` and `verify` load it without the Lambda SDK.

/**
 * A private custom domain serves no traffic for about 15 minutes after it is made, nor through an
 * access association for about 15 minutes after that is made, whatever its status reads: "It takes
 * about 15 minutes for API Gateway to provision your private custom domain name"; "After you
 * create a domain name access association, it takes about 15 minutes to be ready"
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-private-custom-domains.html).
 * `up` waits this long at most (twice that, and a margin) for the name to answer; `verify` calls
 * a failure this soon after the association was made "still provisioning".
 */
export const PRIVATE_DOMAIN_READY_TIMEOUT_MS = 45 * 60_000;
/** How long after an access association was made `verify` calls a failure "still provisioning". */
export const PRIVATE_DOMAIN_PROVISIONING_WINDOW_MS = 60 * 60_000;
export const PRIVATE_DOMAIN_WAIT_TEXT = 'private custom domain provisioning, about 15 min';

export interface AnswerWaitOptions {
  config: Config;
  /** What the state records for a step and scope. */
  recorded(step: 'probe' | 'domain', scope: string): Record<string, unknown> | undefined;
  aws: AwsClients;
  clock: Clock;
  signal?: AbortSignal;
  onProgress?: (text: string, elapsedMs: number) => void;
  /** Overrides PRIVATE_DOMAIN_READY_TIMEOUT_MS (tests). */
  timeoutMs?: number;
}

/** Ask the probe (secondary VPC) for https://<host>.<domain><api.healthPath> through `via`. */
async function askProbe(
  o: AnswerWaitOptions,
  functionName: string,
  region: string,
  via: string,
): Promise<ProbeResult> {
  const { result, functionError, text } = await callProbe(o.aws, region, functionName, via, healthPathOf(o.config.api));
  if (functionError || !result) {
    throw new AwsStepError(
      `probe ${functionName} failed${functionError ? ` (${functionError})` : ''}: ${text.slice(0, 200)}`,
      {
        resource: functionName,
        ...(functionError ? { awsCode: functionError } : {}),
        resolution: 'Run `drctl step probe` to deploy it again, then `drctl up`.',
      },
    );
  }
  return result;
}

/**
 * domainMode private, at the end of `up`: wait until <host>.<domain> answers the health path from inside
 * the VPC (the probe) through each region's execute-api endpoint. Throws an AwsStepError saying it
 * is still provisioning when it does not answer in time.
 */
export async function waitUntilPrivateDomainAnswers(o: AnswerWaitOptions): Promise<void> {
  const name = `${o.config.host}.${o.config.domain}`;
  const probeRec = o.recorded('probe', 'global');
  const functionName = probeRec?.functionName;
  const probeRegion = probeRec?.region;
  if (typeof functionName !== 'string' || typeof probeRegion !== 'string') return;
  const pending = new Map<string, string>();
  for (const region of regionsOf(o.config)) {
    const via = o.recorded('domain', region)?.endpointDnsName;
    if (typeof via === 'string') pending.set(region, via);
  }
  const last = new Map<string, string>();
  try {
    await pollUntil({
      what: `https://${name}/ from inside the VPC`,
      clock: o.clock,
      ...(o.signal ? { signal: o.signal } : {}),
      timeoutMs: o.timeoutMs ?? PRIVATE_DOMAIN_READY_TIMEOUT_MS,
      minDelayMs: 15_000,
      maxDelayMs: 60_000,
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
      check: async () => {
        for (const [region, via] of [...pending]) {
          const p = await askProbe(o, functionName, probeRegion, via);
          if (p.status === 200 && p.region === region) pending.delete(region);
          else
            last.set(region, p.error ?? `${p.status ?? 'no status'}${p.region ? ` from ${p.region}` : ''}`);
        }
        if (!pending.size) return { done: true, value: undefined };
        return {
          done: false,
          status: `${PRIVATE_DOMAIN_WAIT_TEXT} (not answering yet in ${[...pending.keys()].join(' and ')})`,
        };
      },
    });
  } catch (e) {
    if (!(e instanceof AwsStepError) || e.code !== 'aws.timeout') throw e;
    const regions = [...pending.keys()];
    throw new AwsStepError(
      `the private custom domain ${name} is still provisioning: it does not answer through the endpoint in ${regions
        .map((r) => `${r} (${last.get(r) ?? 'no answer'})`)
        .join(' and ')} after ${Math.round((o.timeoutMs ?? PRIVATE_DOMAIN_READY_TIMEOUT_MS) / 60_000)} min`,
      {
        code: 'domain.provisioning',
        resource: name,
        cause: e,
        resolution:
          'AWS takes about 15 minutes to provision a private custom domain and about 15 more for an access association to be ready. ' +
          'Everything is made: run `drctl up` again later; it makes nothing again and waits for the name to answer. ' +
          'If it still does not answer, `drctl verify` shows which part of the path fails (docs/domain-modes.md).',
      },
    );
  }
}
