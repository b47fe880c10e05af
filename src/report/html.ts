import { type Config, regionsOf } from '../config/config.js';
import { type DrillHistoryRecord, drillReason, measured } from '../drill/history.js';
import { drctlVersion } from '../lib/version.js';
import { type CostEstimate, estimateCost } from '../plan/pricing.js';
import type { State } from '../state/schema.js';
import { heldSwitchText } from '../state/switch-text.js';
import type { CheckLine } from '../verify/checks.js';
import type { VerifyResult } from '../verify/command.js';
import type { Chart } from './charts.js';

// `drctl report`: the evidence in one place, for people who were not at the terminal. The HTML is
// one self-contained file (inline CSS and SVG, no script, no font or image to fetch), readable on
// screen and in print; `--format md` is the same content as Markdown for a ticket (charts as their
// text alternative and data tables).

export interface ReportData {
  generatedAt: string;
  drctlVersion: string;
  config: Config;
  state: Readonly<State>;
  cost: CostEstimate;
  verify?: VerifyResult;
  verifyLocation: string;
  drills: DrillHistoryRecord[];
  /** Incident switches (`drctl failover` / `failback`, kind switch), oldest first: not drills. */
  switches: DrillHistoryRecord[];
  drillsLocation: string;
  /** The last drill that ran (not a dry run, refusal or error). */
  lastDrill?: DrillHistoryRecord;
  /** The drills recorded after it (or all, when none ran) that did not measure: said above the table. */
  unmeasuredSince: DrillHistoryRecord[];
}

export interface Charts {
  timeline?: Chart;
  recovery?: Chart;
  trend?: Chart;
}

export function reportData(o: {
  config: Config;
  state: Readonly<State>;
  verify?: VerifyResult;
  verifyLocation: string;
  drills: DrillHistoryRecord[];
  drillsLocation: string;
  now: number;
}): ReportData {
  const switches = o.drills.filter((d) => d.kind === 'switch');
  const drills = o.drills.filter((d) => d.kind !== 'switch');
  const ran = drills.filter(measured);
  const last = ran[ran.length - 1];
  return {
    generatedAt: new Date(o.now).toISOString(),
    drctlVersion: drctlVersion(),
    config: o.config,
    state: o.state,
    cost: estimateCost(o.config),
    verify: o.verify,
    verifyLocation: o.verifyLocation,
    drills,
    switches,
    drillsLocation: o.drillsLocation,
    lastDrill: last,
    unmeasuredSince: last ? drills.slice(drills.indexOf(last) + 1) : drills,
  };
}

/** The charts, rendered to SVG (loads Vega): none for what has no data yet. */
export async function renderCharts(r: ReportData): Promise<Charts> {
  const { timelineChart, recoveryChart, trendChart } = await import('./charts.js');
  const ran = r.drills.filter(measured);
  return {
    timeline: r.lastDrill ? await timelineChart(r.lastDrill) : undefined,
    recovery: r.lastDrill ? await recoveryChart(r.lastDrill) : undefined,
    trend: ran.length || r.switches.length ? await trendChart(ran, r.switches) : undefined,
  };
}

// ---- shared content ------------------------------------------------------------------------

const utc = (iso: string) => `${iso.slice(0, 19).replace('T', ' ')} UTC`;
const usd = (n: number, digits = 2) => `$${n.toFixed(digits)}`;
const secs = (n: number | null | undefined) => (n === null || n === undefined ? '–' : `${n} s`);

interface Table {
  caption: string;
  head: string[];
  rows: string[][];
  /** Right-aligned (numeric) columns. */
  numeric?: number[];
}

function resourcesTable(r: ReportData): Table {
  const rows: string[][] = [];
  for (const [step, byScope] of Object.entries(r.state.steps)) {
    for (const [scope, rec] of Object.entries(byScope)) {
      const ids = Object.entries(rec.resources)
        .filter(
          ([k, v]) =>
            k !== 'drill' && (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'),
        )
        .map(([k, v]) => `${k}: ${String(v)}`);
      rows.push([step, scope, rec.status, ids.join('\n')]);
    }
  }
  return { caption: 'Resources recorded in the state', head: ['step', 'where', 'status', 'ids'], rows };
}

function costTable(c: CostEstimate): Table {
  return {
    caption: `Cost while it runs (USD list prices as of ${c.asOf}; a month is ${c.hoursPerMonth} h; * estimate)`,
    head: ['resource', 'where', 'per hour', 'per month'],
    rows: [
      ...c.lines.map((l) => [
        `${l.resource}${l.estimate ? ' *' : ''}`,
        l.where,
        usd(l.hourlyUsd, 4),
        usd(l.monthlyUsd),
      ]),
      ['total', '', usd(c.totalHourlyUsd, 4), usd(c.totalMonthlyUsd)],
    ],
    numeric: [2, 3],
  };
}

function verifyTable(v: VerifyResult): Table {
  return {
    caption: `Checks of the last verify (${utc(v.checkedAt)})`,
    head: ['result', 'check', 'region', 'what was found', 'fix'],
    rows: v.checks.map((l: CheckLine) => [
      l.status === 'error' ? 'could not check' : l.status,
      l.check,
      l.region ?? '',
      l.text,
      l.status === 'ok' ? '' : (l.fix ?? ''),
    ]),
  };
}

function marksTable(d: DrillHistoryRecord): Table {
  const rows = [
    ...d.failover.map((m) => [
      'failover',
      m.label,
      m.at ? utc(m.at) : '–',
      m.seconds === null ? (m.note ?? '') : `+${m.seconds} s`,
    ]),
    ...d.failback.map((m) => [
      'fail-back',
      m.label,
      m.at ? utc(m.at) : '–',
      m.seconds === null ? (m.note ?? '') : `+${m.seconds} s`,
    ]),
  ];
  return {
    caption: 'Timeline of the last drill (each phase timed from its own start: the fault, then the restore)',
    head: ['phase', 'event', 'when', 'since the phase began'],
    rows,
    numeric: [3],
  };
}

function samplesTable(d: DrillHistoryRecord): Table {
  const t0 = d.failover.find((m) => m.event === 'fault')?.at ?? d.startedAt;
  // Active-active drills watch from both VPCs: a column says which.
  const both = new Set(d.samples.map((s) => s.vantage)).size > 1;
  return {
    caption: both
      ? `Every probe answer of the last drill (from inside the VPCs of ${[...new Set(d.samples.map((s) => s.vantage))].join(' and ')}; ${d.failedRegion ?? d.regions.primary} failed)`
      : 'Every probe answer of the last drill (from inside the secondary VPC)',
    head: ['seconds since the fault', 'phase', ...(both ? ['probe in'] : []), 'DNS answer named', 'answer'],
    rows: d.samples.map((s) => [
      String(Math.round((Date.parse(s.at) - Date.parse(t0)) / 1000)),
      s.phase,
      ...(both ? [s.vantage ?? ''] : []),
      s.answered === 'none'
        ? 'neither region'
        : `${s.answered} (${s.answered === 'primary' ? d.regions.primary : d.regions.secondary})`,
      s.status !== undefined
        ? `HTTP ${s.status}${s.servedBy ? ` from ${s.servedBy}` : ''}`
        : (s.error ?? 'no answer'),
    ]),
    numeric: [0],
  };
}

function drillsTable(drills: DrillHistoryRecord[]): Table {
  return {
    caption: 'Every recorded drill, oldest first',
    head: ['started (UTC)', 'mode', 'result', 'recovery', 'fail-back', 'target', 'bound', 'drctl', 'why'],
    rows: drills.map((d) => [
      utc(d.startedAt),
      d.mode,
      d.result,
      secs(d.recoverySeconds),
      secs(d.failbackSeconds),
      `${d.rtoTargetSeconds} s`,
      `${d.boundSeconds} s`,
      d.drctlVersion,
      drillReason(d),
    ]),
    numeric: [3, 4, 5, 6],
  };
}

/** The held switch (state.switch), said first; undefined while traffic follows the health checks. */
const heldNow = (r: ReportData) =>
  r.state.switch ? `${heldSwitchText(r.state.switch)}. Run drctl failback to release it.` : undefined;

function switchesTable(switches: DrillHistoryRecord[]): Table {
  return {
    caption: 'Every incident switch (drctl failover, failback), oldest first',
    head: ['started (UTC)', 'action', 'away from', 'clients to', 'result', 'took', 'bound', 'by', 'reason'],
    rows: switches.map((d) => [
      utc(d.startedAt),
      d.switch?.action ?? 'switch',
      d.switch?.awayFrom.join(', ') ?? '',
      d.switch?.to ?? '',
      d.result,
      secs(d.switch?.action === 'failback' ? d.failbackSeconds : d.recoverySeconds),
      `${d.boundSeconds} s`,
      d.switch?.principal ?? '',
      d.switch?.reason ?? drillReason(d),
    ]),
    numeric: [5, 6],
  };
}

/**
 * What the "Last drill" section says about drills that did not measure a failover, so that it
 * agrees with the table below it: none measured yet, or some stopped since the one shown.
 */
function unmeasuredNote(r: ReportData): string | undefined {
  const u = r.unmeasuredSince;
  const last = u[u.length - 1];
  if (!last) return undefined;
  const lead = r.lastDrill
    ? `${u.length} later drill(s) did not measure a failover`
    : `None of the ${u.length} recorded drill(s) measured a failover`;
  return `${lead}; the last, ${utc(last.startedAt)}, ${last.result}: ${drillReason(last)}. Fix that, then run drctl failover-test again.`;
}

function drillVerdict(d: DrillHistoryRecord): string {
  const within = d.recoverySeconds !== null && d.recoverySeconds <= d.rtoTargetSeconds;
  return d.recoverySeconds === null
    ? `${d.result.toUpperCase()}: no recovery within the timeout`
    : `${d.result.toUpperCase()}: recovery ${d.recoverySeconds} s, ${within ? 'within' : 'over'} the target of ${d.rtoTargetSeconds} s (bound ${d.boundSeconds} s); fail-back ${secs(d.failbackSeconds)}`;
}

function verifyVerdict(v: VerifyResult): string {
  const c = v.counts;
  const what = v.exitCode === 0 ? 'READY' : v.exitCode === 3 ? 'NOT READY' : 'COULD NOT CHECK';
  return `${what} at ${utc(v.checkedAt)}: ${c.ok} ok, ${c.warn} warning(s), ${c.fail} failed, ${c.error} could not be checked`;
}

// ---- HTML ----------------------------------------------------------------------------------

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function htmlTable(t: Table, cls = ''): string {
  const num = new Set(t.numeric ?? []);
  const cell = (tag: 'td' | 'th', v: string, i: number) =>
    `<${tag}${num.has(i) ? ' class="num"' : ''}>${esc(v).replace(/\n/g, '<br>')}</${tag}>`;
  return `<table${cls ? ` class="${cls}"` : ''}><caption>${esc(t.caption)}</caption><thead><tr>${t.head
    .map((h, i) => cell('th', h, i).replace('<th', '<th scope="col"'))
    .join('')}</tr></thead><tbody>${t.rows
    .map((r) => `<tr>${r.map((v, i) => cell('td', v, i)).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

function figure(c: Chart | undefined, table: Table): string {
  if (!c) return '';
  return `<figure id="${c.id}-chart" class="chart" data-chart="${c.id}"><figcaption>${esc(c.title)}</figcaption>${c.svg}<p class="alt">${esc(c.description)}</p><details open><summary>Data table</summary>${htmlTable(table)}</details></figure>`;
}

const CSS = `
:root { color-scheme: light; --ink: #1b1b1b; --muted: #5f5f5f; --line: #d0d0d0; --ok: #2e7d32; --warn: #8a5a00; --fail: #b3261e; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); margin: 0 auto; max-width: 980px; padding: 24px; }
h1 { font-size: 1.6em; margin: 0 0 4px; } h2 { font-size: 1.25em; margin: 32px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.meta { color: var(--muted); margin: 0 0 16px; }
.verdict { font-weight: 600; padding: 8px 12px; border-left: 6px solid var(--muted); background: #f6f6f6; }
.verdict.ok { border-color: var(--ok); } .verdict.fail { border-color: var(--fail); } .verdict.warn { border-color: var(--warn); }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; font-size: 0.92em; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f0f0f0; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td:first-child, .checks td:nth-child(-n+3) { white-space: nowrap; }
.status-ok { color: var(--ok); font-weight: 600; } .status-warn { color: var(--warn); font-weight: 600; }
.status-fail, .status-error { color: var(--fail); font-weight: 600; }
figure { margin: 16px 0; } figcaption { font-weight: 600; margin-bottom: 4px; }
figure svg { max-width: 100%; height: auto; }
.alt { color: var(--muted); font-size: 0.92em; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.9em; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; } dt { color: var(--muted); } dd { margin: 0; }
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; color: #000; }
  h2 { break-after: avoid; } figure, table, tr { break-inside: avoid; }
  details > summary { display: none; } details { display: block; }
  details::details-content { content-visibility: visible; display: block; }
  .verdict { background: none; }
  a { color: #000; text-decoration: none; }
}
`;

export function renderHtml(r: ReportData, charts: Charts): string {
  const [primary, secondary] = regionsOf(r.config);
  const name = `${r.config.host}.${r.config.domain}`;
  const v = r.verify;
  const d = r.lastDrill;
  const statusClass = (s: string) => `status-${s === 'could not check' ? 'error' : s}`;
  const held = heldNow(r);
  const verifyHtml = v
    ? `<p class="verdict ${v.exitCode === 0 ? (v.counts.warn ? 'warn' : 'ok') : 'fail'}">${esc(verifyVerdict(v))}</p>${htmlTable(
        verifyTable(v),
        'checks',
      ).replace(
        /<tr><td>(ok|warn|fail|could not check)<\/td>/g,
        (_m, s: string) => `<tr><td class="${statusClass(s)}">${s}</td>`,
      )}`
    : `<p>No verify has been kept yet (${esc(r.verifyLocation)}): run <code>drctl verify</code>.</p>`;
  const note = unmeasuredNote(r);
  const noteHtml = note ? `<p class="verdict fail">${esc(note)}</p>` : '';
  const drillHtml = d
    ? `${noteHtml}<p class="verdict ${d.result === 'pass' ? 'ok' : 'fail'}">${esc(drillVerdict(d))}</p>
<dl><dt>mode</dt><dd>${esc(d.mode)}</dd>${d.topology === 'active-active' ? `<dt>region failed</dt><dd>${esc(d.failedRegion ?? d.regions.primary)} (active-active: watched from inside ${esc((d.vantages ?? []).map((v) => v.region).join(' and '))})</dd>` : ''}<dt>started</dt><dd>${esc(utc(d.startedAt))}</dd><dt>by</dt><dd>drctl ${esc(d.drctlVersion)}${d.account ? `, account ${esc(d.account)}` : ''}</dd><dt>probe calls</dt><dd>${d.probes}</dd>${d.problems.length ? `<dt>problems</dt><dd>${esc(d.problems.join('; '))}</dd>` : ''}</dl>
${figure(charts.timeline, marksTable(d))}
${figure(charts.recovery, {
  caption: 'Recovery against target and bound',
  head: ['what', 'seconds'],
  rows: [
    ['measured recovery', secs(d.recoverySeconds)],
    ['target (rtoTargetSeconds)', `${d.rtoTargetSeconds} s`],
    ['worst-case bound', `${d.boundSeconds} s (${d.bound.map((b) => `${b.what} ${b.seconds}`).join(' + ')})`],
  ],
  numeric: [1],
})}
<details><summary>Every probe answer (${d.samples.length})</summary>${htmlTable(samplesTable(d))}</details>`
    : note
      ? noteHtml
      : `<p>No drill has run yet (${esc(r.drillsLocation)}): run <code>drctl failover-test</code>.</p>`;
  const trendHtml = charts.trend
    ? figure(charts.trend, drillsTable(r.drills))
    : r.drills.length
      ? htmlTable(drillsTable(r.drills))
      : '<p>No drill recorded yet.</p>';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>drctl report: ${esc(r.config.deployment)} (${esc(name)})</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>DR report: ${esc(r.config.deployment)}</h1>
<p class="meta">${esc(name)}: primary ${esc(primary)}, secondary ${esc(secondary)}. Generated ${esc(utc(r.generatedAt))} by drctl ${esc(r.drctlVersion)}.</p>
</header>
<main>
${held ? `<section id="switch" aria-labelledby="h-switch"><h2 id="h-switch">Incident switch held</h2><p class="verdict fail">${esc(held)}</p></section>` : ''}
<section id="readiness" aria-labelledby="h-readiness"><h2 id="h-readiness">Readiness (last verify)</h2>${verifyHtml}</section>
<section id="drill" aria-labelledby="h-drill"><h2 id="h-drill">Last drill</h2>${drillHtml}</section>
<section id="trend" aria-labelledby="h-trend"><h2 id="h-trend">Recovery over all drills</h2>${trendHtml}</section>
${r.switches.length ? `<section id="switches" aria-labelledby="h-switches"><h2 id="h-switches">Incident switches</h2>${htmlTable(switchesTable(r.switches))}</section>` : ''}
<section id="deployment" aria-labelledby="h-deployment"><h2 id="h-deployment">Deployment</h2>
${htmlTable({
  caption: 'Regions',
  head: ['role', 'region', 'VPC CIDR'],
  rows: [
    ['primary', primary, r.config.primary.vpcCidr],
    ['secondary', secondary, r.config.secondary.vpcCidr],
  ],
})}
${htmlTable(costTable(r.cost))}
${htmlTable(resourcesTable(r))}
</section>
</main>
</body>
</html>
`;
}

// ---- Markdown ------------------------------------------------------------------------------

const mdCell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, '<br>');

function mdTable(t: Table): string {
  const num = new Set(t.numeric ?? []);
  return [
    `*${t.caption}*`,
    '',
    `| ${t.head.map(mdCell).join(' | ')} |`,
    `| ${t.head.map((_h, i) => (num.has(i) ? '---:' : '---')).join(' | ')} |`,
    ...t.rows.map((r) => `| ${r.map(mdCell).join(' | ')} |`),
    '',
  ].join('\n');
}

function mdChart(c: Chart | undefined): string {
  return c ? `**${c.title}.** ${c.description}\n` : '';
}

export function renderMarkdown(r: ReportData, charts: Charts): string {
  const [primary, secondary] = regionsOf(r.config);
  const name = `${r.config.host}.${r.config.domain}`;
  const v = r.verify;
  const d = r.lastDrill;
  const out: string[] = [
    `# DR report: ${r.config.deployment}`,
    '',
    `${name}: primary ${primary}, secondary ${secondary}. Generated ${utc(r.generatedAt)} by drctl ${r.drctlVersion}.`,
    '',
    ...(heldNow(r) ? ['## Incident switch held', '', `**${heldNow(r)}**`, ''] : []),
    '## Readiness (last verify)',
    '',
    v
      ? `**${verifyVerdict(v)}**\n\n${mdTable(verifyTable(v))}`
      : `No verify kept yet: run \`drctl verify\`.\n`,
    '## Last drill',
    '',
  ];
  const note = unmeasuredNote(r);
  if (note) out.push(`**${note}**`, '');
  if (d) {
    out.push(
      `**${drillVerdict(d)}**`,
      '',
      `Mode ${d.mode}${d.topology === 'active-active' ? `, active-active, ${d.failedRegion ?? d.regions.primary} failed, watched from inside ${(d.vantages ?? []).map((v) => v.region).join(' and ')}` : ''}, started ${utc(d.startedAt)}, drctl ${d.drctlVersion}${d.account ? `, account ${d.account}` : ''}, ${d.probes} probe calls.`,
      '',
      mdChart(charts.timeline),
      mdTable(marksTable(d)),
      mdChart(charts.recovery),
    );
  } else if (!note) out.push('No drill has run yet: run `drctl failover-test`.', '');
  out.push('## Recovery over all drills', '', mdChart(charts.trend));
  out.push(r.drills.length ? mdTable(drillsTable(r.drills)) : 'No drill recorded yet.\n');
  if (r.switches.length) out.push('## Incident switches', '', mdTable(switchesTable(r.switches)));
  out.push(
    '## Deployment',
    '',
    mdTable({
      caption: 'Regions',
      head: ['role', 'region', 'VPC CIDR'],
      rows: [
        ['primary', primary, r.config.primary.vpcCidr],
        ['secondary', secondary, r.config.secondary.vpcCidr],
      ],
    }),
    mdTable(costTable(r.cost)),
    mdTable(resourcesTable(r)),
  );
  return `${out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}
