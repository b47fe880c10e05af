import { z } from 'zod';
import { configSchema, defaultConfig } from './config.js';

interface JsonSchemaNode {
  type?: string | string[];
  enum?: unknown[];
  default?: unknown;
  description?: string;
  properties?: Record<string, JsonSchemaNode>;
  additionalProperties?: JsonSchemaNode | boolean;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

function typeOf(n: JsonSchemaNode): string {
  if (n.enum) return n.enum.map((v) => `\`${String(v)}\``).join(' or ');
  const t = Array.isArray(n.type) ? n.type.join(' or ') : (n.type ?? 'any');
  if (t === 'object' && n.additionalProperties && typeof n.additionalProperties === 'object')
    return 'map of string';
  const range =
    n.minimum !== undefined && n.maximum !== undefined && n.maximum < MAX_SAFE
      ? ` ${n.minimum}-${n.maximum}`
      : '';
  return `${t}${range}`;
}

function rows(node: JsonSchemaNode, prefix: string, defaults: Record<string, unknown>): string[][] {
  return Object.entries(node.properties ?? {}).flatMap(([key, child]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    if (child.properties) return rows(child, path, (defaults[key] ?? {}) as Record<string, unknown>);
    // Nested fields take their default from the parent's default object.
    const value = defaults[key];
    const def = value === undefined ? '(none)' : `\`${JSON.stringify(value)}\``;
    return [[`\`${path}\``, typeOf(child), def, child.description ?? '']];
  });
}

/** Words of `text` in lines of at most `width` characters, each after the first indented by `indent`. */
function wrap(text: string, width: number, indent: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const next = line ? `${line} ${word}` : word;
    if (next.length > width && line) {
      lines.push(line);
      line = `${indent}${word}`;
    } else line = next;
  }
  if (line) lines.push(line);
  return lines.join('\n');
}

/**
 * The config reference (docs/configuration.md, `drctl config --reference`), generated from the schema:
 * one list item per field, wrapped to 110 characters (a test keeps the file in sync).
 */
export function configReference(): string {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchemaNode;
  return rows(schema, '', defaultConfig())
    .map(([field, type, def, meaning]) => {
      const what = def === '(none)' ? `${type}, no default` : `${type}, default ${def}`;
      return wrap(`- ${field} (${what}): ${meaning}`, 110, '  ');
    })
    .join('\n');
}

export function printDefaults(): string {
  return `${JSON.stringify(defaultConfig(), null, 2)}\n`;
}
