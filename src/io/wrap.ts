// Width-aware text for the terminal: a line longer than the terminal is folded at spaces, its
// continuation lines indented under the first; a word (a number, an id) is never split unless it
// alone is wider than the line (an ARN), and a table keeps each number whole in its cell.

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;

/** The width a terminal shows: colour codes take none. */
export const visibleLength = (s: string): number => [...s.replace(ANSI, '')].length;

/**
 * The width to wrap at: the terminal's columns on a TTY (80 when it reports none, as `script`
 * without a size does), undefined when the output is piped or redirected (never wrapped there, so
 * logs and `grep` see one line per thing).
 */
export function terminalWidth(stream: NodeJS.WritableStream): number | undefined {
  const s = stream as { isTTY?: boolean; columns?: number };
  if (s.isTTY !== true) return undefined;
  return s.columns && s.columns > 0 ? s.columns : 80;
}

/** Splits a word wider than `room` into pieces of `room` characters (only then does text break). */
function pieces(word: string, room: number): string[] {
  if (visibleLength(word) <= room) return [word];
  const chars = [...word.replace(ANSI, '')];
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += room) out.push(chars.slice(i, i + room).join(''));
  return out;
}

/**
 * `text` (one line) folded to `width`. Continuation lines are indented by `hang` (default: the
 * line's own leading spaces plus two). Undefined width: the line as it is.
 */
export function wrapLine(text: string, width: number | undefined, hang?: number): string[] {
  if (width === undefined || visibleLength(text) <= width) return [text];
  const lead = /^ */.exec(text)![0];
  const indent = ' '.repeat(Math.min(hang ?? lead.length + 2, Math.floor(width / 2)));
  const words = text.slice(lead.length).split(/ +/);
  const out: string[] = [];
  let cur = lead;
  let empty = true;
  for (const word of words) {
    const room = width - visibleLength(cur) - (empty ? 0 : 1);
    if (visibleLength(word) <= room) {
      cur += (empty ? '' : ' ') + word;
      empty = false;
      continue;
    }
    if (!empty) {
      out.push(cur);
      cur = indent;
    }
    const parts = pieces(word, width - indent.length);
    for (const p of parts.slice(0, -1)) {
      out.push(cur + p);
      cur = indent;
    }
    cur += parts.at(-1)!;
    empty = false;
  }
  out.push(cur);
  return out;
}

/** Each line of a (possibly multi-line) text folded to `width`. */
export function wrapText(text: string, width: number | undefined, hang?: number): string {
  if (width === undefined) return text;
  return text
    .split('\n')
    .flatMap((l) => wrapLine(l, width, hang))
    .join('\n');
}

/**
 * Each line of a message folded to `width`, its continuation hung under the text after the line's
 * label ("error: ", "what to do: ", "  tried: "), so the labels stand out in the left margin; a
 * line without one hangs two spaces in. Undefined width (piped): the lines as they are.
 */
export function wrapLabelled(text: string, width: number | undefined): string[] {
  return text.split('\n').flatMap((l) => wrapLine(l, width, /^ *[a-z][a-zA-Z ]{0,15}: /.exec(l)?.[0].length));
}

export interface Column {
  align?: 'left' | 'right';
  /** The one column that may fold (words) when the table is wider than the terminal. */
  wrap?: boolean;
}

/**
 * A table: cells padded to their column, two spaces apart, after `indent`. Wider than `width`, the
 * column marked `wrap` folds its words onto more lines (the other cells stay on the first, so a
 * number is never split); a trailing `note` goes on the lines below the row, under the table.
 */
export function renderTable(
  rows: Array<{ cells: string[]; note?: string }>,
  cols: Column[],
  o: { width: number | undefined; indent?: string },
): string[] {
  const indent = o.indent ?? '';
  const widths = cols.map((_, i) => Math.max(0, ...rows.map((r) => visibleLength(r.cells[i] ?? ''))));
  const fixed = indent.length + widths.reduce((a, w, i) => a + w + (i ? 2 : 0), 0);
  const wrapAt = cols.findIndex((c) => c.wrap);
  if (o.width !== undefined && fixed > o.width && wrapAt >= 0)
    widths[wrapAt] = Math.max(10, widths[wrapAt]! - (fixed - o.width));
  const pad = (s: string, i: number) => {
    const gap = ' '.repeat(Math.max(0, widths[i]! - visibleLength(s)));
    return cols[i]!.align === 'right' ? gap + s : s + gap;
  };
  const out: string[] = [];
  for (const r of rows) {
    const folded = cols.map((c, i) =>
      c.wrap && o.width !== undefined ? wrapLine(r.cells[i] ?? '', widths[i], 2) : [r.cells[i] ?? ''],
    );
    const height = Math.max(...folded.map((f) => f.length));
    const lines: string[] = [];
    for (let k = 0; k < height; k++) lines.push(indent + folded.map((f, i) => pad(f[k] ?? '', i)).join('  '));
    if (r.note) {
      const inline = `${lines[0]}  ${r.note}`;
      if (o.width === undefined || (height === 1 && visibleLength(inline) <= o.width)) lines[0] = inline;
      else lines.push(...wrapLine(`${indent}    ${r.note}`, o.width));
    }
    out.push(...lines.map((l) => l.trimEnd()));
  }
  return out;
}
