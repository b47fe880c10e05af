// The execute-api policy of a private custom domain (the domain name's `policy`).

/**
 * The execute-api policy of a private domain: invocations through our endpoint only (the
 * tutorial's policy: https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-private-custom-domains-tutorial.html).
 */
export function privateDomainPolicy(vpcEndpointId: string) {
  return {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: ['execute-api:/*'] },
      {
        Effect: 'Deny',
        Principal: '*',
        Action: 'execute-api:Invoke',
        Resource: ['execute-api:/*'],
        Condition: { StringNotEquals: { 'aws:SourceVpce': vpcEndpointId } },
      },
    ],
  };
}
