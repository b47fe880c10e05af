import type { Ora } from 'ora';
import type { EventSink, RunEvent } from './events.js';
import { terminalWidth, wrapText } from './wrap.js';
import { InterruptedError } from '../errors/errors.js';

/**
 * What every step Ctrl-C cut short would say: the command's summary says it once
 * (src/commands/up-down-step.ts), so the steps' own lines leave it out.
 */
const INTERRUPTED_ADVICE = new InterruptedError().resolution;

/**
 * The one output host: it alone knows about spinners, TTYs, colours and --json. The engine hands
 * it typed events (docs/design/conventions.md: the CDK toolkit's IoHost).
 */
export interface Reporter extends EventSink {
  /** A line for people (stderr in --json mode, so stdout stays machine-readable). */
  line(text: string): void;
  /**
   * The width `line` folds at (stdout's terminal, 80 when it reports none), for tables that fit
   * themselves to it; undefined when stdout is piped: nothing is folded.
   */
  readonly width?: number;
  /** The final machine-readable document in --json mode (ignored otherwise). */
  result(doc: Record<string, unknown>): void;
  /** Runs `ask` (a prompt) with the spinner stopped, so nothing redraws over the question or the answer. */
  suspend<T>(ask: () => Promise<T>): Promise<T>;
  close(): void;
}

export interface ReporterOptions {
  json: boolean;
  /** Spinners only when stderr is a TTY and CI is not set. */
  interactive: boolean;
  color: boolean;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  verbose: boolean;
  /** Injected for tests and virtual time; elapsed times come from the events themselves. */
  loadOra?: () => Promise<typeof import('ora').default>;
}

export const fmtDuration = (ms: number): string => {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
};

const label = (e: { step: string; scope: string }) => `${e.step} ${e.scope}`;

function paint(color: boolean, code: number, s: string): string {
  return color ? `\u001b[${code}m${s}\u001b[0m` : s;
}

export function outcomeText(e: Extract<RunEvent, { type: 'step-done' }>): string {
  switch (e.outcome) {
    case 'created':
      return 'done';
    case 'unchanged':
      return 'ok, already in place';
    case 'deleted':
      return 'deleted';
    case 'absent':
      return 'nothing to delete';
  }
}

/** NDJSON on stdout: every event, then one summary object. */
class JsonReporter implements Reporter {
  constructor(private readonly o: ReporterOptions) {}
  emit(e: RunEvent): void {
    // Stack traces only with --verbose, as on a terminal.
    const out =
      e.type === 'step-failed' && !this.o.verbose ? { ...e, error: { ...e.error, stack: undefined } } : e;
    this.o.stdout.write(`${JSON.stringify(out)}\n`);
  }
  line(text: string): void {
    if (this.o.verbose) this.o.stderr.write(`${text}\n`);
  }
  result(doc: Record<string, unknown>): void {
    this.o.stdout.write(`${JSON.stringify({ type: 'summary', ...doc })}\n`);
  }
  suspend<T>(ask: () => Promise<T>): Promise<T> {
    return ask();
  }
  close(): void {}
}

/** Plain lines on stderr for logs and CI; progress only when its text changes or every 30 s. */
class PlainReporter implements Reporter {
  private lastProgress = new Map<string, { text: string; t: number }>();
  readonly width: number | undefined;
  protected readonly errWidth: number | undefined;
  constructor(protected readonly o: ReporterOptions) {
    this.width = terminalWidth(o.stdout);
    this.errWidth = terminalWidth(o.stderr);
  }

  protected write(text: string): void {
    this.o.stderr.write(`${wrapText(text, this.errWidth)}\n`);
  }

  format(e: RunEvent): string | undefined {
    const c = this.o.color;
    switch (e.type) {
      case 'run-start':
        return undefined;
      case 'step-start':
        return `${paint(c, 36, '>')} ${label(e)}: ${e.title}`;
      case 'step-progress': {
        const key = label(e);
        const prev = this.lastProgress.get(key);
        if (prev && prev.text === e.text && e.t - prev.t < 30_000) return undefined;
        this.lastProgress.set(key, { text: e.text, t: e.t });
        return `  ${label(e)}: ${e.text}, ${fmtDuration(e.elapsedMs)}`;
      }
      case 'step-done':
        return `${paint(c, 32, '✔')} ${label(e)}: ${outcomeText(e)} (${fmtDuration(e.elapsedMs)})`;
      case 'step-failed':
        if (e.error.resolution === INTERRUPTED_ADVICE && !this.o.verbose)
          return `${paint(c, 31, '✖')} ${label(e)}: interrupted`;
        return [
          `${paint(c, 31, '✖')} ${label(e)}: ${e.error.message}`,
          e.error.resolution ? `    what to do: ${e.error.resolution}` : '',
          this.o.verbose && e.error.stack ? e.error.stack.replace(/^/gm, '    ') : '',
        ]
          .filter(Boolean)
          .join('\n');
      case 'step-skipped':
        // Ctrl-C: the steps that did not start are counted in the command's summary instead.
        return (e.quiet || e.reason === 'interrupted') && !this.o.verbose
          ? undefined
          : `${paint(c, 33, '-')} ${label(e)}: skipped (${e.reason})`;
      case 'log':
        return e.level === 'warn'
          ? `${paint(c, 33, '!')} ${e.step ? `${e.step} ${e.scope}: ` : ''}${e.message}`
          : this.o.verbose || !e.step
            ? `  ${e.step ? `${e.step} ${e.scope}: ` : ''}${e.message}`
            : undefined;
    }
  }

  emit(e: RunEvent): void {
    const text = this.format(e);
    if (text !== undefined) this.write(text);
  }
  line(text: string): void {
    this.o.stdout.write(`${wrapText(text, this.width)}\n`);
  }
  result(): void {}
  suspend<T>(ask: () => Promise<T>): Promise<T> {
    return ask();
  }
  close(): void {}
}

/**
 * One spinner whose text lists every running step and region with what it waits for and for how
 * long; finished steps are printed above it as plain lines.
 */
class SpinnerReporter extends PlainReporter {
  private spinner: Ora | undefined;
  private readonly running = new Map<
    string,
    { title: string; text?: string; since: number; elapsed: number }
  >();
  private timer: NodeJS.Timeout | undefined;
  private suspended = false;

  constructor(o: ReporterOptions, oraFactory: typeof import('ora').default) {
    super(o);
    this.spinner = oraFactory({ stream: o.stderr, discardStdin: false, color: o.color ? 'cyan' : false });
    this.startTimer();
  }

  private startTimer(): void {
    // Re-render once a second so the elapsed times move while AWS works.
    this.timer = setInterval(() => this.render(), 1000);
    this.timer.unref();
  }

  private render(): void {
    if (!this.spinner || this.suspended) return;
    if (this.running.size === 0) {
      // Only a spinning spinner is cleared: clearing an idle one moves the cursor to column 0, over
      // whatever the terminal shows on that line (a prompt, and the answer being typed).
      if (this.spinner.isSpinning) this.spinner.stop();
      return;
    }
    const now = Date.now();
    const lines = [...this.running.entries()].map(([k, r]) => {
      const secs = fmtDuration(r.elapsed + (now - r.since));
      const line = `${k}: ${r.text ?? r.title}, ${secs}`;
      // One terminal row each (the spinner and its indent take 2): a folded row would push the
      // lines above it up on every redraw.
      const room = (this.errWidth ?? Infinity) - 3;
      return line.length > room ? `${line.slice(0, room - 1)}…` : line;
    });
    this.spinner.text = lines.join('\n  ');
    if (!this.spinner.isSpinning) this.spinner.start();
  }

  protected override write(text: string): void {
    if (this.spinner?.isSpinning) {
      this.spinner.clear();
      super.write(text);
      this.spinner.render();
    } else super.write(text);
  }

  override emit(e: RunEvent): void {
    const key =
      'step' in e && 'scope' in e && e.step ? label(e as { step: string; scope: string }) : undefined;
    if (e.type === 'step-start' && key)
      this.running.set(key, { title: e.title, since: Date.now(), elapsed: 0 });
    if (e.type === 'step-progress' && key)
      this.running.set(key, { title: '', text: e.text, since: Date.now(), elapsed: e.elapsedMs });
    if ((e.type === 'step-done' || e.type === 'step-failed' || e.type === 'step-skipped') && key)
      this.running.delete(key);
    if (e.type !== 'step-progress') super.emit(e);
    this.render();
  }

  override async suspend<T>(ask: () => Promise<T>): Promise<T> {
    this.suspended = true;
    if (this.timer) clearInterval(this.timer);
    if (this.spinner?.isSpinning) this.spinner.stop();
    try {
      return await ask();
    } finally {
      this.suspended = false;
      if (this.spinner) {
        this.startTimer();
        this.render();
      }
    }
  }

  override close(): void {
    if (this.timer) clearInterval(this.timer);
    this.spinner?.stop();
    this.spinner = undefined;
  }
}

export async function createReporter(o: ReporterOptions): Promise<Reporter> {
  if (o.json) return new JsonReporter(o);
  // A terminal that reports no width (a pseudo-terminal nobody sized: `script` without a terminal,
  // some CI runners) cannot be redrawn: ora would count the spinner's text as Infinity lines
  // (its width / 0 columns) and clear lines for ever. Plain lines instead.
  const columns = (o.stderr as { columns?: number }).columns ?? 0;
  if (!o.interactive || columns <= 0) return new PlainReporter(o);
  const ora = o.loadOra ? await o.loadOra() : (await import('ora')).default;
  return new SpinnerReporter(o, ora);
}
