/**
 * One invocation of drctl's probe function (src/assets/probe-function.ts): it resolves a name
 * inside its VPC and GETs `path` (the config's api.healthPath) there. The answer parsed, or why there is none; each caller
 * (the drill, verify, up's wait for a private domain) says what that means for it.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { probeResultSchema, type ProbeResult } from '../assets/probe-function.js';
import type { AwsClients } from './clients.js';
import { awsCode, isAwsError, isCredentialsError } from './errors.js';

export interface ProbeCall {
  /** The probe's answer, when the function ran and returned one. */
  result?: ProbeResult;
  /** Lambda's FunctionError ("Unhandled"), when the function itself failed. */
  functionError?: string;
  /** The payload as text, for an error message. */
  text: string;
}

export async function callProbe(
  aws: Pick<AwsClients, 'client'>,
  region: string,
  functionName: string,
  via?: string,
  path?: string,
): Promise<ProbeCall> {
  const r = await aws.client(LambdaClient, region).send(
    new InvokeCommand({
      FunctionName: functionName,
      Payload: new TextEncoder().encode(JSON.stringify({ ...(via ? { via } : {}), ...(path ? { path } : {}) })),
    }),
  );
  const text = new TextDecoder().decode(r.Payload ?? new Uint8Array());
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const result = probeResultSchema.safeParse(parsed);
  return {
    ...(result.success ? { result: result.data } : {}),
    ...(r.FunctionError ? { functionError: r.FunctionError } : {}),
    text,
  };
}

/**
 * Why the probe function itself failed, in words that lead somewhere. With FunctionError set the
 * function did not return a probe result at all (a crash, a timeout, out of memory), so the network
 * path was never tried; the payload is Lambda's {errorType, errorMessage}
 * (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_ResponseSyntax).
 * Redeploying (`drctl step probe`) changes nothing when the code is already current: the log and
 * the function's configuration say what broke.
 */
export function invocationFailure(
  functionName: string,
  region: string,
  call: Pick<ProbeCall, 'functionError' | 'text'>,
): { summary: string; resolution: string } {
  let detail = call.text.slice(0, 200);
  try {
    const p = JSON.parse(call.text) as { errorType?: unknown; errorMessage?: unknown };
    const words = [p.errorType, p.errorMessage].filter((w) => typeof w === 'string' && w);
    if (words.length) detail = words.join(': ').slice(0, 200);
  } catch {
    // not JSON: the text as it came
  }
  return {
    summary:
      `the probe function ${functionName} in ${region} could not run ` +
      `(Lambda FunctionError ${call.functionError ?? 'none'}): ${detail || 'no payload'}`,
    resolution:
      'The invocation failed, not the network path. Read its log: ' +
      `\`aws logs tail /aws/lambda/${functionName} --region ${region}\`; ` +
      'check its role, subnets, memory and timeout: ' +
      `\`aws lambda get-function-configuration --function-name ${functionName} --region ${region}\`.`,
  };
}

/**
 * Why Lambda refused to invoke the probe at all (the Invoke call failed: a permission, a throttle,
 * a function gone or not Active, a VPC function without its ENIs; its errors are listed in
 * https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_Errors). The function
 * never ran, so the network path is not to blame, and redeploying it (`drctl step probe`) finds it
 * in place and changes nothing. Undefined for what is not such a refusal: credentials that stopped
 * working and anything not from AWS keep their own handling.
 */
export function invocationRefused(
  functionName: string,
  region: string,
  e: unknown,
): { summary: string; what: string; check: string; resolution: string } | undefined {
  if (!isAwsError(e) || isCredentialsError(e)) return undefined;
  const what = `the probe function ${functionName} in ${region} could not be invoked`;
  const check =
    `Check that these credentials may call lambda:InvokeFunction on ${functionName} ` +
    `(\`drctl iam-policy\`) and that it exists and is Active: \`aws lambda ` +
    `get-function-configuration --function-name ${functionName} --region ${region}\`.`;
  return {
    summary: `${what}: Lambda Invoke answered ${awsCode(e) ?? e.name}: ${e.message}`,
    what,
    check,
    resolution: `The invocation failed, not the network path. ${check}`,
  };
}
