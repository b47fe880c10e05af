import { FakeService } from './cloud.js';
import { awsError } from './errors.js';

/**
 * STS (global here: GetCallerIdentity answers the same in every region). It says who the caller
 * is; it needs no IAM permission, so it fails only when the credentials do: `credentials` set to
 * 'expired' answers ExpiredToken, 'invalid' InvalidClientTokenId, both 403 as STS does
 * (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html,
 * https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html).
 */
export class FakeSts extends FakeService {
  readonly service = 'sts';
  override readonly global = true;
  /** The principal the fake's credentials belong to. */
  principal = 'assumed-role/drctl-operator/ana';
  credentials: 'valid' | 'expired' | 'invalid' = 'valid';
  /** The account the credentials are of (default: the fake's own): another one is a wrong profile. */
  callerAccount: string | undefined;

  GetCallerIdentity(): unknown {
    if (this.credentials === 'expired')
      throw awsError('ExpiredToken', 'The security token included in the request is expired', 403);
    if (this.credentials === 'invalid')
      throw awsError('InvalidClientTokenId', 'The security token included in the request is invalid.', 403);
    const [kind, ...rest] = this.principal.split('/');
    const account = this.callerAccount ?? this.cloud.account;
    const arn =
      kind === 'assumed-role'
        ? `arn:aws:sts::${account}:${this.principal}`
        : `arn:aws:iam::${account}:${this.principal}`;
    return { Account: account, Arn: arn, UserId: `AROAFAKE:${rest.at(-1) ?? 'root'}` };
  }

  /** STS makes nothing. */
  snapshot(): string[] {
    return [];
  }
}
