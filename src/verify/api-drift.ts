import { ACMClient, DescribeCertificateCommand } from '@aws-sdk/client-acm';
import { APIGatewayClient, paginateGetBasePathMappings } from '@aws-sdk/client-api-gateway';
import { collect } from '../aws/pages.js';
import {
  type Masks,
  type Shape,
  type ShapeDifference,
  definitionShape,
  diffShapes,
  exportOf,
  exportShape,
  mask,
  policyShape,
  shapeSha,
  stagePatch,
  stageShape,
} from '../aws/resources/rest-api-shape.js';
import { privateApiPolicy } from '../assets/petstore-openapi.js';
import { canonicalStatements } from '../aws/resource-policy.js';
import { isExistingApi, withSecondaryValues } from '../config/api-source.js';
import { outputField, recordedOutputs } from '../state/outputs.js';
import { CERT_WARN_DAYS } from './certificate-checks.js';
import { type CheckLine, type VerifyCheck, type VerifyContext, fail, global, ok, warn } from './check.js';

// Drift between the regions' APIs: the secondary must serve what the primary serves, or a failover
// lands on a different API (a route added in one region only, a stage setting changed by hand, a
// policy edited in the console). Compares the two APIs path by path (rest-api-shape.ts masks what
// legitimately differs: region, account, endpoint and API ids), the custom domain's base path
// mappings, and the two certificates' expiry.

const ID = 'api-drift';
const STAGE = 'prod';
const DAY_MS = 86_400_000;
/** Certificates issued together expire together; this far apart, one was replaced by hand. */
export const CERT_SKEW_DAYS = 30;

const UP_FIX =
  "Run `drctl up`: it puts drctl's definition back where an API differs from it and redeploys it.";
const MAPPING_FIX =
  'Run `drctl up`: it removes the base path mappings drctl did not make from its custom domain.';

/** api.restApiId: the team deployed a definition the copy has not taken yet. */
const behindFix = (region: string) =>
  `The secondary's copy (${region}) is behind the primary's deployed stage ${STAGE}: run \`drctl up\`, it copies that definition again and redeploys the copy.`;

/** Where a region's API is no longer what drctl's definition made there, and the way back. */
const definitionFix = (role: string, region: string) =>
  `The ${role}'s API (${region}) is not the definition drctl imports: run \`drctl up\`, it puts that definition back there and redeploys it.`;

function line(d: ShapeDifference, fix: string, region: string): CheckLine {
  return fail(ID, `${d.path}: ${d.primary} | ${d.secondary} (primary | secondary)`, fix, region);
}

async function mappings(ctx: VerifyContext, region: string, m: Masks): Promise<Shape> {
  const domain = recordedOutputs(ctx.state, 'domain', region);
  const shape: Shape = new Map();
  if (!domain) return shape;
  const client = ctx.aws.client(APIGatewayClient, region);
  const found = await collect(
    paginateGetBasePathMappings(
      { client },
      { domainName: domain.domainName, domainNameId: domain.domainNameId, limit: 500 },
    ),
    (p) => p.items,
  );
  for (const b of found) {
    const at = `custom domain ${domain.domainName} base path '${b.basePath === '(none)' ? '' : (b.basePath ?? '')}'`;
    shape.set(at, mask(`${b.restApiId} stage ${b.stage}`, m));
  }
  return shape;
}

async function certificateDays(ctx: VerifyContext, region: string): Promise<number | undefined> {
  const arn = recordedOutputs(ctx.state, 'ca', region)?.certificateArn;
  if (!arn) return undefined;
  const c = await ctx.aws
    .client(ACMClient, region)
    .send(new DescribeCertificateCommand({ CertificateArn: arn }));
  const after = c.Certificate?.NotAfter;
  return after ? Math.floor((after.getTime() - ctx.clock.now()) / DAY_MS) : undefined;
}

export const apiDrift: VerifyCheck = {
  id: ID,
  title: "the secondary's API is the primary's",
  run: (ctx) =>
    global(ID, async () => {
      const [p, s] = [ctx.config.primary.region, ctx.config.secondary.region];
      const masks = (region: string): Masks => ({
        region,
        restApiId: outputField(ctx.state, 'api', region, 'restApiId'),
      });
      const [mp, ms] = [masks(p), masks(s)];
      // api.restApiId: the primary is the team's API. The copy follows its stage prod, so both
      // sides are their deployments (exports): the team's undeployed edits are not drift. Its
      // policy is the team's statements plus drctl's one, the copy's drctl's own (admitting the
      // secondary's endpoint): different by design, so the copy's is held to drctl's instead.
      const existing = isExistingApi(ctx.config.api);
      // The copy is the primary's export with api.secondaryValues applied (what up imports): the
      // primary's side is that, so a mapped Lambda is no drift. Its mapped values name the
      // secondary region: masked as the copy's are.
      const deployedShape = (region: string, d: Record<string, unknown>, m: Masks): Shape => {
        if (!isExistingApi(ctx.config.api) || region !== p) return exportShape(d, m);
        const shape = exportShape(withSecondaryValues(ctx.config.api, d), m);
        for (const [k, v] of shape) shape.set(k, v.split(s).join('{region}'));
        return shape;
      };
      const read = async (region: string, m: Masks) => {
        const client = ctx.aws.client(APIGatewayClient, region);
        const recorded = recordedOutputs(ctx.state, 'api', region)?.definitionShapeSha !== undefined;
        const [live, deployed, stage, policy, mapped] = await Promise.all([
          // The working copy: what the api step recorded it made (the team's API: nothing).
          !existing || recorded ? definitionShape(client, m) : undefined,
          existing ? exportOf(client, m.restApiId).then((d) => deployedShape(region, d, m)) : undefined,
          stageShape(client, m, STAGE),
          policyShape(client, m),
          mappings(ctx, region, m),
        ]);
        return { live, definition: (deployed ?? live)!, stage, policy, mapped };
      };
      const [a, b] = await Promise.all([read(p, mp), read(s, ms)]);
      // The definition drctl imports is the source of truth: a region whose API no longer hashes to
      // what the import made there (recorded by the api step) is the one changed by hand.
      const drifted = (
        [
          ['primary', p, a.live],
          ['secondary', s, b.live],
        ] as const
      ).filter(([, region, shape]) => {
        const recorded = recordedOutputs(ctx.state, 'api', region)?.definitionShapeSha;
        return recorded !== undefined && shape !== undefined && recorded !== shapeSha(shape);
      });
      const [role, where] = drifted[0] ?? ['secondary', s];
      const defFix = drifted.length ? definitionFix(role, where) : existing ? behindFix(s) : UP_FIX;
      // The copy's policy as the api step sets it (only read with api.restApiId).
      const wanted = (): Shape => {
        const vpce = outputField(ctx.state, 'endpoints', s, 'vpcEndpointId');
        return new Map([['resource policy', mask(canonicalStatements(privateApiPolicy(vpce)), ms)]]);
      };
      const lines: CheckLine[] = [
        ...drifted.map(([r, region]) =>
          fail(
            ID,
            `${r} ${region}: its API is not what drctl's definition made`,
            definitionFix(r, region),
            region,
          ),
        ),
        ...diffShapes(a.definition, b.definition).map((d) => line(d, defFix, where)),
        ...(existing
          ? diffShapes(wanted(), b.policy).map((d) =>
              fail(ID, `${d.path}: ${d.primary} | ${d.secondary} (drctl's | secondary)`, UP_FIX, s),
            )
          : diffShapes(a.policy, b.policy).map((d) => line(d, UP_FIX, s))),
        ...diffShapes(a.stage, b.stage).map((d) => {
          const patch = stagePatch(STAGE, d.path, a.stage.get(d.path), ms);
          const cli = patch
            ? `, or \`aws apigateway update-stage --region ${s} --rest-api-id ${ms.restApiId} --stage-name ${STAGE} --patch-operations op=${patch.op},path=${patch.path}${patch.value === undefined ? '' : `,value=${patch.value}`}\``
            : '';
          // AWS removes a method setting whole: the primary's fields of that method go with it.
          const method = / method (\S+) /.exec(d.path)?.[1];
          const whole =
            patch?.op === 'remove' &&
            method !== undefined &&
            [...a.stage.keys()].some((k) => k.includes(` method ${method} `))
              ? `, then set the primary's settings of ${method} again`
              : '';
          return line(
            d,
            `Run \`drctl up\` (it sets the secondary's stage as the primary's)${cli}${whole}.`,
            s,
          );
        }),
        ...diffShapes(a.mapped, b.mapped).map((d) => line(d, MAPPING_FIX, s)),
      ];
      // Warnings, not failures: an expiry alone does not stop a failover today, the certificate
      // check fails one under CERT_FAIL_DAYS, and ACM may still renew it in time.
      const [dp, ds] = await Promise.all([certificateDays(ctx, p), certificateDays(ctx, s)]);
      if (dp !== undefined && ds !== undefined) {
        const renew =
          'Renew or reissue the one that differs (`drctl step ca --region <region>` issues a new one), so a failover does not land on a certificate about to expire.';
        const text = `certificate expiry: in ${dp} | in ${ds} days (primary | secondary)`;
        if (Math.abs(dp - ds) > CERT_SKEW_DAYS)
          lines.push(warn(ID, `${text}, more than ${CERT_SKEW_DAYS} days apart`, renew));
        else if (Math.min(dp, ds) < CERT_WARN_DAYS)
          lines.push(warn(ID, `${text}, one within ${CERT_WARN_DAYS} days`, renew));
      }
      const failed = lines.filter((l) => l.status === 'fail').length;
      const n = a.definition.size + a.stage.size + a.policy.size + a.mapped.size;
      if (!failed) lines.unshift(ok(ID, `the two regions' APIs match (${n} paths compared)`));
      return lines;
    }),
};
