import type { AwsCredentialIdentityProvider } from '@smithy/types';

/**
 * The one place SDK clients are built. Every AWS call goes through a client from here, so
 * credentials, retries and endpoints are decided once:
 * - credentials: the SDK's standard chain (env, SSO, shared config, IMDS); `--profile` selects a
 *   profile exactly as AWS_PROFILE would, SSO included;
 * - retries: standard mode with more attempts than the default 3, because API Gateway and
 *   Route 53 control-plane quotas are low (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html);
 *   AWS_RETRY_MODE / AWS_MAX_ATTEMPTS still win when set;
 * - endpoints: never set here. The SDK reads AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> itself
 *   (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html), so LocalStack or
 *   moto work without a code path of ours.
 * Client classes are passed in by the (lazily imported) step modules, so `drctl --help` loads no SDK.
 */
export interface ClientConfig {
  region: string;
  credentials?: AwsCredentialIdentityProvider;
  retryMode?: string;
  maxAttempts?: number;
}

export type ClientClass<C> = new (config: ClientConfig) => C;

/** Route 53 is a global service whose control plane lives in us-east-1. */
export const ROUTE53_REGION = 'us-east-1';

export interface AwsClientFactoryOptions {
  profile?: string;
  /** Tests pass fixed credentials so the chain never touches the disk or IMDS. */
  credentials?: AwsCredentialIdentityProvider;
}

export class AwsClients {
  private readonly cache = new Map<string, unknown>();
  private readonly credentials: AwsCredentialIdentityProvider | undefined;

  constructor(private readonly opts: AwsClientFactoryOptions = {}) {
    this.credentials = opts.credentials ?? (opts.profile ? profileCredentials(opts.profile) : undefined);
  }

  client<C>(ctor: ClientClass<C>, region: string): C {
    const key = `${ctor.name}@${region}`;
    let c = this.cache.get(key) as C | undefined;
    if (!c) {
      const config: ClientConfig = { region };
      if (this.credentials) config.credentials = this.credentials;
      if (!process.env.AWS_RETRY_MODE) config.retryMode = 'standard';
      if (!process.env.AWS_MAX_ATTEMPTS) config.maxAttempts = 6;
      c = new ctor(config);
      this.cache.set(key, c);
    }
    return c;
  }

  /** Number of distinct clients built so far (a benchmark figure). */
  get size(): number {
    return this.cache.size;
  }
}

function profileCredentials(profile: string): AwsCredentialIdentityProvider {
  let provider: AwsCredentialIdentityProvider | undefined;
  return async (props) => {
    if (!provider) {
      const { fromNodeProviderChain } = await import('@aws-sdk/credential-providers');
      provider = fromNodeProviderChain({ profile });
    }
    return provider(props);
  };
}
