import type { DrillHistoryRecord } from '../drill/history.js';

// The report's charts: Vega-Lite specs compiled to Vega and rendered to SVG in Node with Vega's
// headless view (renderer 'none', then toSVG: no browser, no canvas, no network). Both libraries
// load here only, when `drctl report` runs (`drctl --help` must not pay for them).

export interface Chart {
  id: string;
  title: string;
  /** The text alternative: what the chart shows, in a sentence or two. */
  description: string;
  svg: string;
}

type Spec = Record<string, unknown>;

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
const COLORS = {
  primary: '#1f6fb4',
  secondary: '#d9731a',
  none: '#b3261e',
  healthy: '#2e7d32',
  unhealthy: '#b3261e',
};

const seconds = (fromIso: string, t: string) => Math.round((Date.parse(t) - Date.parse(fromIso)) / 100) / 10;

async function render(spec: Spec): Promise<string> {
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  const compiled = vl.compile(spec as unknown as Parameters<typeof vl.compile>[0]).spec;
  // No loader: the data is inline, and nothing may be fetched (the report must open offline).
  const refuse = () => Promise.reject(new Error('drctl report loads nothing: its data is inline'));
  const view = new vega.View(vega.parse(compiled), {
    renderer: 'none',
    loader: { ...vega.loader(), load: refuse, sanitize: refuse, http: refuse, file: refuse },
  });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** The SVG, labelled for assistive technology: role img, a <title> and a <desc>. */
function accessible(svg: string, id: string, title: string, description: string): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return svg.replace(
    /^<svg([^>]*)>/,
    (_m, attrs: string) =>
      `<svg${attrs.replace(/\s(role|aria-[a-z]+)="[^"]*"/g, '')} role="img" aria-labelledby="${id}-title ${id}-desc">` +
      `<title id="${id}-title">${esc(title)}</title><desc id="${id}-desc">${esc(description)}</desc>`,
  );
}

const config = {
  font: FONT,
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridColor: '#e5e5e5' },
  legend: { labelFontSize: 11, titleFontSize: 12, orient: 'bottom' },
  background: 'white',
};

/** A lane's state over the drill: [from, to) seconds since the fault. */
interface Segment {
  lane: string;
  from: number;
  to: number;
  state: string;
}

const markAt = (marks: DrillHistoryRecord['failover'], key: string) =>
  marks.find((m) => m.event === key)?.at ?? null;

/**
 * Which region answered each probe over time, with the health check's and the alarm's states as
 * lanes, and the fault, the DNS switch, the first 200s and the restore as rules.
 */
export async function timelineChart(d: DrillHistoryRecord): Promise<Chart> {
  const t0 = markAt(d.failover, 'fault') ?? d.startedAt;
  const restore = markAt(d.failback, 'fault');
  const end = Math.max(
    ...d.samples.map((s) => seconds(t0, s.at)),
    ...[...d.failover, ...d.failback].filter((m) => m.at).map((m) => seconds(t0, m.at!)),
    1,
  );
  // The failed region (older records: the primary) and, in active-active, one probe lane per VPC.
  const failed = d.failedRegion ?? d.regions.primary;
  const failedRole = failed === d.regions.primary ? 'primary' : 'secondary';
  const vantages = [...new Set(d.samples.map((s) => s.vantage).filter((v): v is string => !!v))];
  const probeLane = (v: string | undefined) =>
    vantages.length > 1 && v ? `probe in ${v}'s VPC: who answered` : 'probe: who answered';
  const lanes = {
    events: 'events',
    hc: `health check (${failedRole})`,
    alarm: `alarm (${failedRole})`,
  };
  const probeLanes = vantages.length > 1 ? vantages.map(probeLane) : [probeLane(undefined)];
  const probes = d.samples.map((s) => ({
    lane: probeLane(s.vantage),
    t: seconds(t0, s.at),
    answered:
      s.status === 200 && s.servedBy
        ? s.servedBy === d.regions.primary
          ? `${d.regions.primary} (primary)`
          : `${d.regions.secondary} (secondary)`
        : 'no answer / error',
    detail:
      s.status !== undefined
        ? `HTTP ${s.status}${s.servedBy ? ` from ${s.servedBy}` : ''}`
        : (s.error ?? 'no answer'),
  }));
  const segments: Segment[] = [];
  const lane = (name: string, key: string, good: string, bad: string) => {
    const down = markAt(d.failover, key);
    const up = markAt(d.failback, key);
    if (!down) {
      segments.push({ lane: name, from: 0, to: end, state: `${good} (not changed)` });
      return;
    }
    const a = seconds(t0, down);
    const b = up ? seconds(t0, up) : end;
    segments.push({ lane: name, from: 0, to: a, state: good });
    segments.push({ lane: name, from: a, to: b, state: bad });
    if (up) segments.push({ lane: name, from: b, to: end, state: good });
  };
  lane(lanes.hc, 'health-check', 'healthy', 'unhealthy');
  if (d.mode === 'outage') lane(lanes.alarm, 'alarm', 'OK', 'ALARM');
  const rules = [
    { t: 0, label: 'fault injected' },
    ...(markAt(d.failover, 'dns')
      ? [{ t: seconds(t0, markAt(d.failover, 'dns')!), label: 'DNS switched' }]
      : []),
    ...(restore ? [{ t: seconds(t0, restore), label: 'restored' }] : []),
    ...(markAt(d.failback, 'dns') ? [{ t: seconds(t0, markAt(d.failback, 'dns')!), label: 'DNS back' }] : []),
  ];
  const laneOrder = [lanes.events, ...probeLanes, lanes.hc, ...(d.mode === 'outage' ? [lanes.alarm] : [])];
  // Labels of rules close in time take turns above and below the events lane's middle.
  const labels = rules
    .sort((a, b) => a.t - b.t)
    .map((r, i) => ({ ...r, lane: lanes.events, dy: i % 2 ? 8 : -6 }));
  const stateDomain = [
    `${d.regions.primary} (primary)`,
    `${d.regions.secondary} (secondary)`,
    'no answer / error',
    'healthy',
    'unhealthy',
    'OK',
    'ALARM',
    'healthy (not changed)',
    'OK (not changed)',
  ];
  const stateRange = [
    COLORS.primary,
    COLORS.secondary,
    COLORS.none,
    COLORS.healthy,
    COLORS.unhealthy,
    COLORS.healthy,
    COLORS.unhealthy,
    '#9e9e9e',
    '#9e9e9e',
  ];
  const used = new Set([...segments.map((g) => g.state), ...probes.map((p) => p.answered)]);
  const pairs = stateDomain.map((v, i) => [v, stateRange[i]!] as const).filter(([v]) => used.has(v));
  const x = {
    field: 't',
    type: 'quantitative',
    title: 'seconds since the fault was injected',
    scale: { domain: [Math.min(0, ...probes.map((p) => p.t)), end] },
  };
  const y = {
    field: 'lane',
    type: 'nominal',
    title: null,
    sort: laneOrder,
    scale: { domain: laneOrder },
    axis: { labelLimit: 260, labelFontSize: 12 },
  };
  const color = {
    field: 'state',
    type: 'nominal',
    title: null,
    scale: { domain: pairs.map(([v]) => v), range: pairs.map(([, c]) => c) },
    legend: { labelLimit: 260, columns: 3, symbolType: 'circle' },
  };
  const spec: Spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    width: 760,
    height: 44 * laneOrder.length,
    config,
    layer: [
      {
        data: { values: segments },
        mark: { type: 'bar', height: 16, opacity: 0.85 },
        encoding: {
          x: { ...x, field: 'from' },
          x2: { field: 'to' },
          y,
          color,
        },
      },
      {
        data: { values: probes.map((p) => ({ ...p, state: p.answered })) },
        mark: { type: 'point', filled: true, size: 70, opacity: 1 },
        encoding: { x, y, color, shape: { field: 'state', type: 'nominal', legend: null } },
      },
      {
        data: { values: rules },
        mark: { type: 'rule', strokeDash: [4, 3], color: '#555' },
        encoding: { x: { ...x } },
      },
      ...labels.map((l) => ({
        data: { values: [l] },
        mark: { type: 'text', dy: l.dy, align: 'left', dx: 3, fontSize: 11, color: '#333' },
        encoding: { x: { ...x }, y, text: { field: 'label' } },
      })),
    ],
  };
  const first200 = d.failover.find((m) => m.event === 'served');
  const other = failed === d.regions.primary ? d.regions.secondary : d.regions.primary;
  const otherRole = failedRole === 'primary' ? 'secondary' : 'primary';
  const description =
    `Drill of ${d.startedAt.slice(0, 16).replace('T', ' ')} UTC (${d.mode}${vantages.length > 1 ? `, active-active, ${failed} failed` : ''}): ${d.samples.length} probe answers from inside ${vantages.length > 1 ? `the VPCs of ${vantages.join(' and ')}` : 'the VPC'}. ` +
    `The fault was injected at 0 s; ` +
    (first200?.seconds !== null && first200?.seconds !== undefined
      ? `the ${otherRole} (${other}) first answered at ${first200.seconds} s (recovery ${d.recoverySeconds} s, target ${d.rtoTargetSeconds} s, bound ${d.boundSeconds} s); `
      : `the ${otherRole} never answered within the timeout; `) +
    (restore ? `the fault was put back at ${seconds(t0, restore)} s` : 'the fault was put back') +
    (d.failbackSeconds !== null
      ? ` and the ${failedRole} answered again ${d.failbackSeconds} s later.`
      : '.') +
    ' The table below the chart lists every mark.';
  const svg = await render(spec);
  const id = 'timeline';
  const title = 'Last drill: which region answered each probe, health check and alarm states';
  return { id, title, description, svg: accessible(svg, id, title, description) };
}

/** Recovery time of this drill against the target and the bound, as three bars. */
export async function recoveryChart(d: DrillHistoryRecord): Promise<Chart> {
  const rows = [
    {
      what: 'measured recovery',
      seconds: d.recoverySeconds ?? 0,
      kind: d.result === 'pass' ? 'pass' : 'fail',
    },
    { what: 'target', seconds: d.rtoTargetSeconds, kind: 'target' },
    { what: 'worst-case bound', seconds: d.boundSeconds, kind: 'bound' },
  ];
  const spec: Spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    width: 760,
    height: 96,
    config,
    data: { values: rows },
    layer: [
      {
        mark: { type: 'bar', height: 18 },
        encoding: {
          y: {
            field: 'what',
            type: 'nominal',
            title: null,
            sort: null,
            axis: { labelLimit: 260, labelFontSize: 12 },
          },
          x: { field: 'seconds', type: 'quantitative', title: 'seconds' },
          color: {
            field: 'kind',
            type: 'nominal',
            legend: null,
            scale: {
              domain: ['pass', 'fail', 'target', 'bound'],
              range: [COLORS.healthy, COLORS.unhealthy, '#616161', '#9e9e9e'],
            },
          },
        },
      },
      {
        mark: { type: 'text', align: 'left', dx: 4, fontSize: 11 },
        encoding: {
          y: { field: 'what', type: 'nominal', sort: null },
          x: { field: 'seconds', type: 'quantitative' },
          text: { field: 'seconds', type: 'quantitative' },
        },
      },
    ],
  };
  const description =
    d.recoverySeconds === null
      ? `No recovery was measured (the secondary never answered); target ${d.rtoTargetSeconds} s, bound ${d.boundSeconds} s.`
      : `Measured recovery ${d.recoverySeconds} s against a target of ${d.rtoTargetSeconds} s and a worst-case bound of ${d.boundSeconds} s: ${d.recoverySeconds <= d.rtoTargetSeconds ? 'within' : 'over'} the target.`;
  const id = 'recovery';
  const title = 'Recovery time against target and bound';
  return { id, title, description, svg: accessible(await render(spec), id, title, description) };
}

/** A switch's name on the timeline: `failover to R`, `drain R`, `failback`. */
function switchLabel(d: DrillHistoryRecord): string {
  const sw = d.switch;
  if (!sw) return 'switch';
  if (sw.action === 'failback') return 'failback';
  return sw.action === 'drain' ? `drain ${sw.awayFrom.join(', ')}` : `failover to ${sw.to}`;
}

/**
 * Recovery time of every drill that ran, over time, with the target as a rule, and the incident
 * switches (drctl failover, failback) as marked moments on the same time axis.
 */
export async function trendChart(
  drills: DrillHistoryRecord[],
  switches: DrillHistoryRecord[] = [],
): Promise<Chart> {
  const ran = drills.filter((d) => d.result === 'pass' || d.result === 'fail');
  const points = ran
    .filter((d) => d.recoverySeconds !== null)
    .map((d) => ({
      at: d.startedAt,
      seconds: d.recoverySeconds,
      label: `${d.recoverySeconds} s`,
      mode: d.mode,
      result: d.result,
    }));
  const target = ran[ran.length - 1]?.rtoTargetSeconds ?? drills[drills.length - 1]?.rtoTargetSeconds ?? 0;
  const marks = switches.map((d) => ({ at: d.startedAt, label: switchLabel(d) }));
  const trendX = { field: 'at', type: 'temporal', title: 'drill (UTC)', axis: { format: '%Y-%m-%d %H:%M' } };
  const trendY = {
    field: 'seconds',
    type: 'quantitative',
    title: 'recovery (s)',
    scale: { zero: true, domainMax: Math.max(target, ...points.map((p) => p.seconds ?? 0)) * 1.1 },
  };
  const spec: Spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    width: 760,
    height: 220,
    config,
    layer: [
      {
        data: { values: points },
        mark: { type: 'line', color: '#9e9e9e' },
        encoding: { x: trendX, y: trendY },
      },
      {
        data: { values: points },
        mark: { type: 'point', filled: true, size: 80 },
        encoding: {
          x: trendX,
          y: trendY,
          color: {
            field: 'mode',
            type: 'nominal',
            title: 'mode',
            scale: { domain: ['invert', 'outage'], range: [COLORS.primary, COLORS.secondary] },
          },
          shape: { field: 'result', type: 'nominal', title: 'result', scale: { domain: ['pass', 'fail'] } },
        },
      },
      {
        data: { values: points },
        mark: { type: 'text', dy: -10, fontSize: 11 },
        encoding: { x: trendX, y: trendY, text: { field: 'label' } },
      },
      // Incident switches on the same time axis: a vertical rule each, named (failover, failback).
      ...(marks.length
        ? [
            {
              data: { values: marks },
              mark: { type: 'rule', color: COLORS.secondary, strokeDash: [2, 3] },
              encoding: { x: trendX },
            },
            {
              data: { values: marks },
              mark: { type: 'text', angle: 270, align: 'right', dx: -4, dy: -4, fontSize: 10, y: 0 },
              encoding: { x: trendX, text: { field: 'label' } },
            },
          ]
        : []),
      {
        data: { values: [{ target, label: `target ${target} s` }] },
        mark: { type: 'rule', color: COLORS.unhealthy, strokeDash: [6, 4] },
        encoding: { y: { field: 'target', type: 'quantitative' } },
      },
      {
        data: { values: [{ target, label: `target ${target} s` }] },
        mark: { type: 'text', align: 'right', dy: -6, color: COLORS.unhealthy, fontSize: 11, x: 'width' },
        encoding: { y: { field: 'target', type: 'quantitative' }, text: { field: 'label' } },
      },
    ],
  };
  const values = points.map((p) => `${p.seconds} s`).join(', ');
  const switched = marks.length
    ? ` Incident switches on the same axis: ${marks.map((m) => `${m.label} at ${m.at}`).join('; ')}.`
    : '';
  const description =
    (points.length
      ? `Recovery time of ${points.length} drill(s), oldest first: ${values}; target ${target} s. The table below the chart lists each drill.`
      : 'No drill has measured a recovery yet.') + switched;
  const id = 'trend';
  const title = 'Recovery time over all recorded drills';
  return { id, title, description, svg: accessible(await render(spec), id, title, description) };
}
