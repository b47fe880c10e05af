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
  if (n.enum) return n.enum.map((v) => `\`${String(v)}\``).join(' \\| ');
  const t = Array.isArray(n.type) ? n.type.join(' \\| ') : (n.type ?? 'any');
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

/** The README's config reference, generated from the schema (a test keeps the README in sync). */
export function configReference(): string {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchemaNode;
  const table = [
    ['field', 'type', 'default', 'meaning'],
    ['---', '---', '---', '---'],
    ...rows(schema, '', defaultConfig()),
  ];
  return table.map((r) => `| ${r.join(' | ')} |`).join('\n');
}

export function printDefaults(): string {
  return `${JSON.stringify(defaultConfig(), null, 2)}\n`;
}
