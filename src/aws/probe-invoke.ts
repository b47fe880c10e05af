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
