import { type Config, activeActive, regionsOf, secondaryCanary, withDefaults } from '../config/config.js';
import type { State } from '../state/schema.js';
import { heldSwitchText } from '../state/switch-text.js';
import type { StepInfo } from '../steps/index.js';
import { STEP_NAMES, type StepName } from '../steps/types.js';
import { UsageError } from '../errors/errors.js';

/**
 * What `up` would change, per step and region, the way `terraform plan` shows it: from the state
 * (what each step recorded) and the config the last complete `up` built with (`applied` in the
 * state), against the config in use. SDK-free: `plan` makes no AWS call.
 *
 * create: nothing recorded; update: up changes the resource in place; replace: up deletes it and
 * makes a new one; rebuild: up cannot apply the change (it needs `drctl down`, then `drctl up`);
 * delete: up removes what the config no longer wants; no change; resume: an interrupted step.
 */
export type Action =
  'create' | 'update' | 'replace' | 'rebuild' | 'delete' | 'no change' | 'resume' | 'recorded';

export interface ScopeDiff {
  action: Action;
  /** The config fields behind an update, replace, rebuild or delete. */
  fields: string[];
  /** For resume: the recorded status. */
  status?: string;
}

export interface FieldChange {
  field: string;
  from: unknown;
  to: unknown;
}

export interface PlanDiff {
  /** When the config `up` last built with was recorded; undefined when no complete `up` is recorded. */
  appliedAt: string | undefined;
  changes: FieldChange[];
  steps: Array<{ step: StepName; scopes: Record<string, ScopeDiff> }>;
  counts: Record<'create' | 'update' | 'replace' | 'rebuild' | 'delete', number>;
  /** A held incident switch (state.switch) as one line: `up` keeps it (src/state/switch-text.ts). */
  held?: string;
}

type Effect = Exclude<Action, 'no change' | 'resume' | 'recorded'>;
/** Which regions a field's effect applies to: the field's own region, its peer, or both. */
type Where = 'own' | 'peer' | 'both' | 'primary' | 'secondary' | 'global';

interface Rule {
  step: StepName;
  effect: Effect | ((c: Config) => Effect | undefined);
  where: Where;
}

/**
 * For each config field: which steps act on a change of it, and how (read from the steps' `up`:
 * the vpc stack's parameters, the listener's policy and certificate, the alarm's settings...).
 * A field whose name starts with `primary.` or `secondary.` applies to that region (`own`).
 */
/** The canary's PROBE_PATH: an update of each canary there is. */
const HEALTH_PATH_RULES: Rule[] = [
  { step: 'canary', effect: 'update', where: 'primary' },
  { step: 'canary', effect: (c) => (secondaryCanary(c) ? 'update' : undefined), where: 'secondary' },
];

const RULES: Record<string, Rule[]> = {
  // The state file belongs to one deployment and one pair of regions: loading it with another
  // name or region is refused before any AWS call (src/state/schema.ts). Every step would have to
  // be made again, so the diff says so too, and up refuses it even if that check were bypassed.
  deployment: everyStep('rebuild'),
  region: everyStep('rebuild'),
  vpcCidr: [
    // A VPC's CIDR block cannot change in place (CidrBlock, "Update requires: Replacement":
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-ec2-vpc.html),
    // and the endpoint, NLB and functions in it block CloudFormation from replacing it.
    { step: 'vpc', effect: 'rebuild', where: 'own' },
    { step: 'vpc', effect: 'update', where: 'peer' }, // PeerVpcCidr: the peer's security-group rule
    { step: 'peering', effect: 'rebuild', where: 'global' },
  ],
  domain: [
    { step: 'hosted-zone', effect: 'rebuild', where: 'global' },
    { step: 'ca', effect: 'rebuild', where: 'both' }, // the certificate names *.<domain>
    { step: 'domain', effect: 'rebuild', where: 'both' },
    { step: 'traffic-policy', effect: 'rebuild', where: 'global' },
    { step: 'probe', effect: 'update', where: 'global' },
  ],
  host: [
    { step: 'ca', effect: 'rebuild', where: 'both' }, // the certificate names <host>.<domain>
    { step: 'domain', effect: 'rebuild', where: 'both' },
    { step: 'traffic-policy', effect: 'rebuild', where: 'global' },
    { step: 'probe', effect: 'update', where: 'global' },
  ],
  ttl: [
    {
      step: 'traffic-policy',
      effect: (c) => (c.routing === 'traffic-policy' ? 'update' : undefined),
      where: 'global',
    },
  ],
  sshCidr: [{ step: 'vpc', effect: 'update', where: 'both' }],
  // The stack's NatGatewayEnabled parameter: CloudFormation adds or removes the NAT gateway, its
  // address and the default route in place.
  natGateway: [{ step: 'vpc', effect: 'update', where: 'both' }],
  clientInstanceType: [{ step: 'vpc', effect: 'update', where: 'both' }],
  // The CA's subject and validity are set when the CA is made; up keeps the CA it has.
  'ca.commonName': [{ step: 'ca', effect: 'rebuild', where: 'both' }],
  'ca.organization': [{ step: 'ca', effect: 'rebuild', where: 'both' }],
  'ca.country': [{ step: 'ca', effect: 'rebuild', where: 'both' }],
  'ca.validityYears': [{ step: 'ca', effect: 'rebuild', where: 'both' }],
  // Used by `down` only.
  'ca.permanentDeletionTimeInDays': [],
  domainMode: [
    // To private: the endpoints served the public domain, which AWS says must not carry a private
    // one's access association (up refuses: docs/domain-modes.md). To regional: in place.
    { step: 'domain', effect: (c) => (c.domainMode === 'private' ? 'rebuild' : 'replace'), where: 'both' },
  ],
  tlsPolicy: [{ step: 'nlb', effect: 'update', where: 'both' }],
  routing: [{ step: 'traffic-policy', effect: 'replace', where: 'global' }],
  'canary.artifactExpiryDays': [{ step: 'canary', effect: 'update', where: 'both' }],
  'canary.evaluationPeriods': [
    { step: 'canary', effect: 'update', where: 'both' },
    { step: 'health-check', effect: 'update', where: 'global' },
  ],
  // M is on the alarm only: Route 53's copy of it (CloudWatchAlarmConfiguration) has no
  // DatapointsToAlarm, so the health-check step has nothing to renew.
  'canary.datapointsToAlarm': [{ step: 'canary', effect: 'update', where: 'both' }],
  'canary.secondary': [
    // The canary step records the secondary either way; up makes or removes its canary (which
    // active-active keeps whatever canary.secondary says).
    {
      step: 'canary',
      effect: (c) => (activeActive(c) ? undefined : c.canary.secondary ? 'create' : 'delete'),
      where: 'secondary',
    },
    { step: 'health-check', effect: (c) => (activeActive(c) ? undefined : 'update'), where: 'global' },
  ],
  topology: [
    // The secondary's canary and alarm come and go with the topology (unless canary.secondary
    // keeps them), and with them its health check; the records are replaced by the other pair in
    // one change batch.
    {
      step: 'canary',
      effect: (c) => (c.canary.secondary ? undefined : activeActive(c) ? 'create' : 'delete'),
      where: 'secondary',
    },
    { step: 'health-check', effect: (c) => (c.canary.secondary ? undefined : 'update'), where: 'global' },
    { step: 'traffic-policy', effect: 'replace', where: 'global' },
    // Active-active adds the drill's probe in the primary VPC too (its second vantage point).
    { step: 'probe', effect: 'update', where: 'global' },
  ],
  // From the PetStore to a file or back: the api step overwrites the definition of the API it has
  // (PutRestApi) and redeploys; the canary calls the other health path.
  api: [{ step: 'api', effect: 'update', where: 'both' }, ...HEALTH_PATH_RULES],
  // The file moved, or its content changed (definitionSha): overwrite and redeploy in both regions.
  'api.openapi': [{ step: 'api', effect: 'update', where: 'both' }],
  'api.definitionSha': [{ step: 'api', effect: 'update', where: 'both' }],
  'api.healthPath': HEALTH_PATH_RULES,
  // Another API of the team's: the secondary's copy is overwritten with its definition.
  'api.restApiId': [{ step: 'api', effect: 'update', where: 'both' }],
  // Deploying the team's stage after drctl's statement, or leaving it to them: the primary only.
  'api.deploy': [{ step: 'api', effect: 'update', where: 'primary' }],
  // What the copy calls instead of the primary's values: the copy is imported again.
  'api.secondaryValues': [{ step: 'api', effect: 'update', where: 'secondary' }],
  // Another VPC is another network: everything in it is made again.
  vpcId: [
    { step: 'vpc', effect: 'rebuild', where: 'own' },
    { step: 'endpoints', effect: 'rebuild', where: 'own' },
    { step: 'peering', effect: 'rebuild', where: 'global' },
    { step: 'hosted-zone', effect: 'update', where: 'global' },
  ],
  // The endpoint, NLB, canary and probe sit in these subnets and cannot move in place.
  subnetIds: [{ step: 'vpc', effect: 'rebuild', where: 'own' }],
  endpointId: [
    { step: 'endpoints', effect: 'replace', where: 'own' },
    { step: 'api', effect: 'update', where: 'both' },
  ],
  peering: [
    { step: 'peering', effect: (c) => (c.peering === 'existing' ? 'delete' : 'create'), where: 'global' },
  ],
  hostedZoneId: [{ step: 'hosted-zone', effect: 'rebuild', where: 'global' }],
  // Used by failover-test only.
  rtoTargetSeconds: [],
  // Checked against the caller's account before a command runs; nothing in AWS depends on it.
  allowedAccountIds: [],
};

function everyStep(effect: Effect): Rule[] {
  return STEP_NAMES.flatMap((step): Rule[] => [
    { step, effect, where: 'global' },
    { step, effect, where: 'both' },
  ]);
}

/** certificateArn.<region>: that region's certificate, on the domain and the listener. */
const CERTIFICATE_RULES: Rule[] = [
  { step: 'ca', effect: 'update', where: 'own' },
  { step: 'domain', effect: 'update', where: 'own' },
  { step: 'nlb', effect: 'update', where: 'own' },
];

function leaves(value: unknown, prefix = ''): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) {
      for (const [p, leaf] of leaves(v, prefix ? `${prefix}.${k}` : k)) out.set(p, leaf);
    }
  } else if (prefix) out.set(prefix, value);
  return out;
}

/** The fields that differ between two configs, dotted (`primary.vpcCidr`), in a stable order. */
export function configChanges(before: unknown, after: unknown): FieldChange[] {
  const a = leaves(before);
  const b = leaves(after);
  const fields = [...new Set([...a.keys(), ...b.keys()])].sort();
  return fields
    .filter((f) => JSON.stringify(a.get(f)) !== JSON.stringify(b.get(f)))
    .map((field) => ({ field, from: a.get(field), to: b.get(field) }));
}

function rulesFor(field: string): {
  rules: Rule[];
  /** 'primary', 'secondary', or a region name (certificateArn.<region>). */ region?: string;
} {
  const [head, ...rest] = field.split('.');
  if ((head === 'primary' || head === 'secondary') && rest.length)
    return { rules: RULES[rest.join('.')] ?? [], region: head };
  if (head === 'certificateArn' && rest.length) return { rules: CERTIFICATE_RULES, region: rest.join('.') };
  // api.regionValues.<region>.<name>: that region's copy of the definition only.
  if (head === 'api' && rest[0] === 'regionValues' && rest[1])
    return { rules: [{ step: 'api', effect: 'update', where: 'own' }], region: rest[1] };
  // api.secondaryValues.<string> (the string may hold dots: a host, an ARN).
  if (head === 'api' && rest[0] === 'secondaryValues') return { rules: RULES['api.secondaryValues']! };
  return { rules: RULES[field] ?? [] };
}

/**
 * Whether a config field (as the reference names it: `primary.vpcCidr`, `certificateArn`) has a
 * rule here, even an empty one (a field only `down` or `failover-test` reads). A test runs this
 * over every field of the config reference, so a new field cannot slip past plan and up.
 */
export function hasRule(field: string): boolean {
  const [head, ...rest] = field.split('.');
  if (head === 'certificateArn') return true;
  if ((head === 'primary' || head === 'secondary') && rest.length) return rest.join('.') in RULES;
  return field in RULES;
}

/** What the plan names as the reason for the update that adds the traffic hold. */
export const TRAFFIC_HOLD = 'traffic hold (new in this drctl)';

const RANK: Record<Effect, number> = { update: 1, create: 2, delete: 2, replace: 3, rebuild: 4 };

export function planDiff(config: Config, state: State | undefined, steps: readonly StepInfo[]): PlanDiff {
  const regions = regionsOf(config);
  const applied = state?.applied;
  const changes = applied ? configChanges(withDefaults(applied.config), config) : [];
  const effects = new Map<string, { effect: Effect; fields: Set<string> }>();
  for (const change of changes) {
    const { rules, region } = rulesFor(change.field);
    const own = region === 'primary' ? regions[0] : region === 'secondary' ? regions[1] : region;
    for (const rule of rules) {
      const effect = typeof rule.effect === 'function' ? rule.effect(config) : rule.effect;
      if (!effect) continue;
      const peer = own === regions[0] ? regions[1] : regions[0];
      const scopes =
        rule.where === 'global'
          ? ['global']
          : rule.where === 'both'
            ? regions
            : rule.where === 'primary'
              ? [regions[0]]
              : rule.where === 'secondary'
                ? [regions[1]]
                : rule.where === 'own'
                  ? own && regions.includes(own)
                    ? [own]
                    : []
                  : own
                    ? [peer]
                    : [];
      for (const scope of scopes) {
        const key = `${rule.step}@${scope}`;
        const prev = effects.get(key);
        if (!prev) effects.set(key, { effect, fields: new Set([change.field]) });
        else {
          prev.fields.add(change.field);
          if (RANK[effect] > RANK[prev.effect]) prev.effect = effect;
        }
      }
    }
  }
  // Not a config change: a deployment built before the traffic hold (config/traffic-hold.ts) has
  // no hold alarms, hold checks nor CALCULATED record checks; `up` adds them in place and points
  // the records at them.
  const hc = state?.steps['health-check']?.global;
  if (hc?.status === 'ready' && !hc.resources.recordHealthCheckIds) {
    for (const step of ['health-check', 'traffic-policy'] as const) {
      const key = `${step}@global`;
      const prev = effects.get(key);
      if (prev) prev.fields.add(TRAFFIC_HOLD);
      else effects.set(key, { effect: 'update', fields: new Set([TRAFFIC_HOLD]) });
    }
  }
  const counts = { create: 0, update: 0, replace: 0, rebuild: 0, delete: 0 };
  const out = steps.map((info) => {
    const scopes = info.scope === 'global' ? ['global'] : regions;
    return {
      step: info.name,
      scopes: Object.fromEntries(
        scopes.map((scope): [string, ScopeDiff] => {
          const rec = state?.steps[info.name]?.[scope];
          const e = effects.get(`${info.name}@${scope}`);
          let d: ScopeDiff;
          if (!rec) d = { action: 'create', fields: [] };
          else if (rec.status !== 'ready') d = { action: 'resume', fields: [], status: rec.status };
          else if (e) d = { action: e.effect, fields: [...e.fields] };
          else d = { action: applied ? 'no change' : 'recorded', fields: [] };
          if (d.action in counts) counts[d.action as keyof typeof counts]++;
          return [scope, d];
        }),
      ),
    };
  });
  const held = state?.switch ? heldSwitchText(state.switch) : undefined;
  return { appliedAt: applied?.at, changes, steps: out, counts, ...(held ? { held } : {}) };
}

/** A config change up cannot make itself: the field, its values, and the steps and regions it hits. */
export interface UnsafeChange extends FieldChange {
  where: string[];
}

/**
 * The changes `plan` shows as "replace: down, then up": up (and step) refuse to run while there
 * is one. Read from the same diff `plan` prints, so the two cannot disagree.
 */
export function unsafeChanges(d: PlanDiff): UnsafeChange[] {
  const where = new Map<string, string[]>();
  for (const s of d.steps)
    for (const [scope, x] of Object.entries(s.scopes))
      if (x.action === 'rebuild')
        for (const f of x.fields) where.set(f, [...(where.get(f) ?? []), `${s.step} ${scope}`]);
  return d.changes.filter((c) => where.has(c.field)).map((c) => ({ ...c, where: where.get(c.field)! }));
}

/**
 * Refuse, before any AWS call, to run `command` with a config change up cannot make itself (a VPC
 * whose CIDR changes cannot be updated in place, and CloudFormation cannot replace it while the
 * endpoint, NLB and functions are in it: up would fail half-way). Exit 2, naming each field.
 */
export function refuseUnsafeChanges(d: PlanDiff, command: string): void {
  const unsafe = unsafeChanges(d);
  if (!unsafe.length) return;
  const list = unsafe.map((c) => c.field).join(', ');
  const one = unsafe.length === 1;
  // Short lines: the message is read in an 80-column terminal, one field and its steps a line.
  throw new UsageError(
    [
      `${command} cannot make ${one ? 'this config change' : 'these config changes'} in place; nothing was changed:`,
      ...unsafe.flatMap((c) => [
        `  ${c.field}: ${show(c.from)} -> ${show(c.to)}`,
        `    plan: replace: down, then up (${c.where.join(', ')})`,
      ]),
    ].join('\n'),
    {
      field: list,
      omitFieldPrefix: true,
      resolution: `put ${list} back as ${one ? 'it was' : 'they were'}, or \`drctl down\` then \`drctl up\`.`,
    },
  );
}

const WORDS: Record<Action, string> = {
  create: 'create',
  update: 'update in place',
  replace: 'replace',
  rebuild: 'replace: down, then up',
  delete: 'delete',
  'no change': 'no change',
  resume: 'resume',
  recorded: 'recorded',
};

/** One scope's cell: "update in place (tlsPolicy)", "create", "resume (creating)". */
export function scopeText(d: ScopeDiff): string {
  if (d.action === 'resume') return `resume (${d.status})`;
  return d.fields.length ? `${WORDS[d.action]} (${d.fields.join(', ')})` : WORDS[d.action];
}

const show = (v: unknown) => (v === undefined ? '(unset)' : JSON.stringify(v));

/**
 * The diff as lines for a person: the config changes since the last `up`, then a count like
 * Terraform's "Plan: 1 to add, 2 to change, 0 to destroy". Empty when nothing is recorded yet.
 * `plan` prints it, and `up` before it asks.
 */
export function renderPlanDiff(d: PlanDiff): string[] {
  const held = renderHeld(d);
  const lines: string[] = held ? [held] : [];
  if (d.appliedAt) {
    if (d.changes.length === 0) lines.push(`config: unchanged since the last complete up (${d.appliedAt})`);
    else {
      lines.push(`config changed since the last complete up (${d.appliedAt}):`);
      for (const c of d.changes) lines.push(`  ${c.field}: ${show(c.from)} -> ${show(c.to)}`);
    }
  }
  const c = d.counts;
  const total = c.create + c.update + c.replace + c.rebuild + c.delete;
  lines.push(
    total === 0
      ? 'plan: no changes'
      : `plan: ${c.create} to create, ${c.update} to update in place, ${c.replace + c.rebuild} to replace${c.rebuild ? ` (${c.rebuild} that up cannot replace itself: \`drctl down\`, then \`drctl up\`)` : ''}, ${c.delete} to delete`,
  );
  return lines;
}

/** The held switch, and that `up` keeps it: `up`, `step` and `verify` never undo a switch. */
export const renderHeld = (d: PlanDiff): string | undefined =>
  d.held && `${d.held} (up keeps it; \`drctl failback\` releases it)`;

/**
 * What `up` prints before it starts (and before it asks, where it asks): the config changes and,
 * one line each, only the steps and regions that would change. Empty when nothing changed.
 */
export function renderUpPreview(d: PlanDiff): string[] {
  if (!d.appliedAt || d.changes.length === 0) return [];
  return [
    ...renderPlanDiff(d).filter((l) => !l.startsWith('plan:') && l !== renderHeld(d)),
    ...renderChangedSteps(d),
    renderPlanDiff(d).at(-1)!,
  ];
}

const TO: Partial<Record<Action, string>> = {
  create: 'to create',
  resume: 'to resume',
  update: 'to update in place',
  replace: 'to replace',
  rebuild: 'to replace (down, then up)',
  delete: 'to delete',
};

/**
 * `up`'s short preview: per region (then global), how many steps it will create, resume or
 * change, from the same diff `plan` prints in full ("sa-east-1: 9 to create"). One line a scope.
 */
export function renderCountsByScope(d: PlanDiff): string[] {
  const byScope = new Map<string, Map<Action, number>>();
  for (const s of d.steps)
    for (const [scope, x] of Object.entries(s.scopes)) {
      if (!TO[x.action]) continue;
      const m = byScope.get(scope) ?? new Map<Action, number>();
      m.set(x.action, (m.get(x.action) ?? 0) + 1);
      byScope.set(scope, m);
    }
  const scopes = [...byScope.keys()].sort((a, b) => Number(a === 'global') - Number(b === 'global'));
  return scopes.map((scope) => {
    const m = byScope.get(scope)!;
    const parts = (Object.keys(TO) as Action[]).filter((a) => m.has(a)).map((a) => `${m.get(a)} ${TO[a]}`);
    return `  ${scope}: ${parts.join(', ')}`;
  });
}

/** Only the steps and regions that would change, one line each. */
export function renderChangedSteps(d: PlanDiff): string[] {
  return d.steps.flatMap((s) =>
    Object.entries(s.scopes)
      .filter(([, x]) => !['no change', 'recorded'].includes(x.action))
      .map(([scope, x]) => `  ${s.step} ${scope}: ${scopeText(x)}`),
  );
}
