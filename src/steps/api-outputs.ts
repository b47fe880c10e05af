import { z } from 'zod';
import type { StepContext } from './types.js';

// The api step's outputs (what the state records for each region's REST API) and its context type.

export const outputs = z.object({
  restApiId: z.string().regex(/^[a-z0-9]{10}$/, 'must be a REST API id like a1b2c3d4e5'),
  name: z.string(),
  stageName: z.literal('prod'),
  /** https://{restApiId}.execute-api.{region}.amazonaws.com/prod (private DNS, inside the VPC). */
  invokeUrl: z.string().url(),
  /** https://{restApiId}-{vpceId}.execute-api.{region}.amazonaws.com/prod (no Host header needed). */
  vpceInvokeUrl: z.string().url(),
  /** Hash of definition, endpoint and policy that stage prod was last deployed with. */
  deployedFingerprint: z.string().optional(),
  /**
   * Config `api: {"restApiId"}`, primary: drctl's endpoint, when drctl associated it with the
   * team's API (recorded before the call, so `down` after a crash still removes it).
   */
  associatedEndpoint: z.string().optional(),
  /**
   * Config `api: {"restApiId"}`, primary: the deployment stage prod served when drctl added its
   * policy statement. A policy takes effect only when deployed, so while the stage still serves
   * this one, drctl's endpoint is refused (verify fails, naming the create-deployment command).
   */
  admitPendingDeployment: z.string().optional(),
  /**
   * shapeSha of what the definition made, read right after drctl imported or put it: the API as
   * drctl's definition makes it in this region; anything else is a hand change (`up` puts it back).
   */
  definitionShapeSha: z.string().optional(),
});
export type ApiOutputs = z.infer<typeof outputs>;

declare module './types.js' {
  interface StepOutputs {
    api: ApiOutputs;
  }
}

export type Ctx = StepContext<ApiOutputs>;
