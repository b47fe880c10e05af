import { awsCode } from '../aws/errors.js';
import { awsAdvice, awsErrorClass } from '../errors/aws.js';
import { AwsStepError, DrctlError, InterruptedError, errorMessage } from '../errors/errors.js';
import type { PlanNode } from './graph.js';

// How a step's failure leaves the runner: as a DrctlError naming step, region, resource and AWS
// code, with what to do about it.

/** Every failure leaves the runner as a DrctlError naming step, region, resource and AWS code. */
export function wrapFailure(
  e: unknown,
  n: Pick<PlanNode, 'step' | 'scope'>,
  ctx: { lastProgress?: string },
  aborted: boolean,
): DrctlError {
  if (aborted) return new InterruptedError(`${n.step} in ${n.scope} was interrupted`);
  const base = { step: n.step, region: n.scope };
  if (e instanceof DrctlError) {
    return Object.assign(e, { context: { ...base, ...stripUndefined(e.context) } });
  }
  const code = awsCode(e);
  const resource = ctx.lastProgress?.split(':')[0];
  return new AwsStepError(`${n.step} (${n.scope}): ${code ? `${code}: ` : ''}${errorMessage(e)}`, {
    ...base,
    resource,
    awsCode: code,
    code: awsErrorClass(code).code,
    cause: e,
    resolution: resolutionFor(code),
  });
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** What to do about a step's AWS error: the table's advice (src/errors/aws.ts). */
export function resolutionFor(code: string | undefined): string {
  return awsAdvice(code, 'run');
}
