import type { z } from 'zod';
import { UsageError } from '../errors/errors.js';

// How a bad config file reads to a person: the JSON syntax error at its line and column, zod's
// type errors in plain words naming what the field wants.

/** A JSON value as a person would name it in a sentence. */
function described(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string')
    return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  if (typeof v === 'object') return 'an object';
  return JSON.stringify(v);
}

const EXPECTED: Record<string, string> = {
  int: 'a whole number',
  number: 'a number',
  string: 'a string in double quotes',
  boolean: 'true or false',
  object: 'an object ({...})',
  record: 'an object ({...})',
  array: 'a list ([...])',
};

/**
 * Zod's own messages ("Invalid input: expected number, received string") in plain words; a
 * message a field sets itself (`.max(12, '...')`) takes precedence over this one.
 */
export function plainIssue(issue: z.core.$ZodRawIssue): string | undefined {
  const input = issue.input;
  switch (issue.code) {
    case 'invalid_type': {
      const want = EXPECTED[issue.expected] ?? issue.expected;
      const quoted =
        typeof input === 'string' &&
        ((['number', 'int'].includes(issue.expected) &&
          input.trim() !== '' &&
          !Number.isNaN(Number(input))) ||
          (issue.expected === 'boolean' && ['true', 'false'].includes(input)));
      return `must be ${want}, not ${described(input)}${quoted ? ' (drop the quotes)' : ''}`;
    }
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const word =
        issue.code === 'too_small'
          ? issue.inclusive
            ? 'at least'
            : 'more than'
          : issue.inclusive
            ? 'at most'
            : 'less than';
      if (issue.origin === 'string')
        return `must be ${word} ${String(bound)} characters long, not ${typeof input === 'string' ? input.length : '?'}`;
      if (issue.origin === 'number') return `must be ${word} ${String(bound)}, not ${described(input)}`;
      return undefined;
    }
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, not ${described(input)}`;
    default:
      return undefined;
  }
}

/** The offending line with a caret under `column` (1-based); long lines shown around the spot. */
function pointAt(text: string, line: number, column: number): string {
  const source = (text.split('\n')[line - 1] ?? '').replace(/\r$/, '').replace(/\t/g, ' ');
  // Long lines (a minified file) are shown around the spot, so they fit a terminal.
  const start = Math.max(0, column - 50);
  const shown = (start > 0 ? '...' : '') + source.slice(start, start + 60);
  const caret = ' '.repeat(Math.max(0, column - 1 - start + (start > 0 ? 3 : 0))) + '^';
  return `  ${String(line).padStart(4)} | ${shown}\n       | ${caret}`;
}

/**
 * A YAML syntax error (the yaml package's first error) at its line and column, shown as a JSON
 * one is. `at` is yaml's 1-based position; without it, the spot is the end of the file.
 */
export function yamlError(
  path: string,
  text: string,
  message: string,
  at: { line: number; col: number } | undefined,
  field: string,
): UsageError {
  const lines = text.trimEnd().split('\n');
  const line = at?.line ?? lines.length;
  const column = at?.col ?? (lines[lines.length - 1] ?? '').length + 1;
  const reason = message.split('\n')[0]!.replace(/\s*at line \d+, column \d+:?$/, '').trim();
  return new UsageError(
    `${path} is not valid YAML at line ${line}, column ${column}:\n  ${reason}\n${pointAt(text, line, column)}`,
    {
      field,
      resolution:
        'Fix the YAML there (indentation, a missing ":" or a tab instead of spaces is usual).',
    },
  );
}

/**
 * A JSON syntax error at its line and column, with the line itself and a caret under the spot.
 * V8 gives a character offset ("... in JSON at position 42", sometimes with "(line 3 column 5)")
 * or none at all ("Unexpected end of JSON input": the spot is then the end of the file).
 */
export function jsonError(path: string, text: string, message: string, field = '--config'): UsageError {
  const at = /at position (\d+)/.exec(message);
  const offset = at ? Math.min(Number(at[1]), text.length) : text.trimEnd().length;
  const before = text.slice(0, offset).split('\n');
  const line = before.length;
  const column = before[before.length - 1]!.length + 1;
  const reason = message
    .replace(/\s*\(line \d+ column \d+\)/, '')
    .replace(/,? ?(in JSON )?at position \d+/, '')
    .replace(/^Unexpected end of JSON input$/, 'the file ends before the JSON does')
    .trim();
  return new UsageError(
    `${path} is not valid JSON at line ${line}, column ${column}:\n  ${reason}\n${pointAt(text, line, column)}`,
    {
      field,
      resolution: 'Fix the JSON there (a missing comma or quote, or a trailing comma, is usual).',
    },
  );
}
