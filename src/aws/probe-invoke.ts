/**
 * One invocation of drctl's probe function (src/assets/probe-function.ts): it resolves a name
 * inside its VPC and GETs /health there. The answer parsed, or why there is none; each caller
 * (the drill, verify, up's wait for a private domain) says what that means for it.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { probeResultSchema, type ProbeResult } from '../assets/probe-function.js';
import type { AwsClients } from './clients.js';

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
): Promise<ProbeCall> {
  const r = await aws.client(LambdaClient, region).send(
    new InvokeCommand({
      FunctionName: functionName,
      Payload: new TextEncoder().encode(JSON.stringify(via ? { via } : {})),
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
