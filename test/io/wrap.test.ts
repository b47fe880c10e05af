import { describe, expect, it } from 'vitest';
import { renderTable, terminalWidth, visibleLength, wrapLabelled, wrapLine } from '../../src/io/wrap.js';

describe('wrapLine', () => {
  it('leaves a line alone when piped (no width) or when it fits', () => {
    const long = 'x '.repeat(100).trim();
    expect(wrapLine(long, undefined)).toEqual([long]);
    expect(wrapLine('short', 80)).toEqual(['short']);
  });

  it('folds at spaces, indents the rest under the first, and never splits a number', () => {
    const lines = wrapLine('  cost: $1032.44 a month, $1.4143 an hour, 390 s worst case', 20);
    expect(lines.every((l) => l.length <= 20)).toBe(true);
    expect(lines.slice(1).every((l) => l.startsWith('    '))).toBe(true);
    expect(lines.join(' ')).toContain('$1032.44');
    expect(lines.join(' ')).toContain('$1.4143');
  });

  it('splits only a word wider than the line (an ARN)', () => {
    const arn = `arn:aws:iam::111122223333:role/${'r'.repeat(80)}`;
    const lines = wrapLine(`role ${arn}`, 40);
    expect(lines.every((l) => l.length <= 40)).toBe(true);
    expect(
      lines
        .map((l) => l.trim())
        .join('')
        .replace('role', ''),
    ).toBe(arn);
  });

  it('counts colour codes as taking no width', () => {
    const red = '\u001b[31m✖\u001b[0m';
    expect(visibleLength(red)).toBe(1);
    expect(wrapLine(`${red} ${'a'.repeat(77)}`, 80)).toHaveLength(1);
  });
});

describe('renderTable', () => {
  const rows = [
    { cells: ['a resource with a long name', 'sa-east-1', '$0.5479', '$400.00'], note: 'a note' },
    { cells: ['total', '', '$1.4143', '$1032.44'] },
  ];
  const cols = [{ wrap: true }, {}, { align: 'right' as const }, { align: 'right' as const }];

  it('piped: one line per row, the note on it', () => {
    expect(renderTable(rows, cols, { width: undefined })).toEqual([
      'a resource with a long name  sa-east-1  $0.5479   $400.00  a note',
      'total                                   $1.4143  $1032.44',
    ]);
  });

  it('narrow: the wrap column folds, the prices stay whole on the first line', () => {
    const out = renderTable(rows, cols, { width: 44 });
    expect(out.every((l) => l.length <= 44)).toBe(true);
    expect(out[0]).toMatch(/sa-east-1 +\$0\.5479 +\$400\.00$/);
    expect(out.at(-1)).toMatch(/^total +\$1\.4143 +\$1032\.44$/);
    expect(out.join('\n')).toContain('a note');
  });
});

it('terminalWidth: the columns on a TTY, 80 when it reports none, none when piped', () => {
  const s = (o: object) => o as NodeJS.WritableStream;
  expect(terminalWidth(s({ isTTY: true, columns: 120 }))).toBe(120);
  expect(terminalWidth(s({ isTTY: true, columns: 0 }))).toBe(80);
  expect(terminalWidth(s({}))).toBeUndefined();
});

describe('wrapLabelled', () => {
  const message = [
    'error: credentials: no AWS credentials found for profile "production-operator" (from --profile)',
    '  tried: profile production-operator in ~/.aws/config and ~/.aws/credentials (keys, SSO)',
    'what to do: Give profile production-operator credentials: `aws configure --profile production-operator`',
  ].join('\n');

  it('hangs each continuation under the text after its label, and breaks no word', () => {
    const lines = wrapLabelled(message, 60);
    expect(lines.every((l) => l.length <= 60)).toBe(true);
    expect(lines.filter((l) => /^\S/.test(l)).map((l) => l.split(':')[0])).toEqual(['error', 'what to do']);
    expect(lines[1]).toMatch(/^ {7}\S/); // under the text after "error: "
    expect(lines.find((l) => l.startsWith('  tried:'))).toBeDefined();
    const tried = lines.findIndex((l) => l.startsWith('  tried:'));
    expect(lines[tried + 1]).toMatch(/^ {9}\S/); // under the text after "  tried: "
    const words = (s: string) => s.split(/\s+/).filter(Boolean);
    expect(words(lines.join(' '))).toEqual(words(message));
  });

  it('piped (no width): the lines as they are', () => {
    expect(wrapLabelled(message, undefined)).toEqual(message.split('\n'));
  });
});
