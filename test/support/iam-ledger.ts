/**
 * Vitest global set-up: proves drctl's policy is least, over the whole suite. Every process's
 * fake-cloud authorizer writes its ledger (authz/authorizer.ts: the statements of drctl's policies
 * it ran under, and which statement, action and resource was the only grant of some request) to a
 * folder; after the last test file, every statement, action and resource pattern of the policies
 * the lifecycle tests name as their subject (test/iam/least-privilege.test.ts: one per config shape)
 * must have been the only grant of some request anywhere in the suite: removing or narrowing it
 * would have refused that request, and failed its test. Run only on the whole suite (`npm test` sets
 * DRCTL_IAM_LEAST=1): a single file exercises only part of the policy.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Statement {
  Sid?: string;
  Action?: string | string[];
  Resource?: string | string[];
}

let dir: string | undefined;

export function setup(): void {
  dir = mkdtempSync(join(tmpdir(), 'drctl-iam-ledger-'));
  process.env.DRCTL_IAM_LEDGER = dir;
}

export function teardown(): void {
  if (!dir) return;
  try {
    if (process.env.DRCTL_IAM_LEAST !== '1') return;
    const { unneeded, checked } = unneededGrants(dir);
    if (!checked.statements) {
      process.exitCode = 1;
      console.error(
        '\nFAIL least privilege: no test named a policy to check (test/iam/least-privilege.test.ts did not run?)\n',
      );
    } else if (!unneeded.length) {
      console.log(
        `\nleast privilege: ${checked.statements} statements, ${checked.actions} actions and ${checked.resources} resource patterns of drctl's policies, each the only grant of some request of the suite\n`,
      );
    }
    if (unneeded.length) {
      // Vitest reports an error thrown here but still exits 0: set the exit code ourselves.
      process.exitCode = 1;
      console.error(
        `\nFAIL least privilege: drctl's IAM policy grants what no test needed (the only grant of no request):\n  ${unneeded.join('\n  ')}\n` +
          'Remove it from src/iam/permissions.ts, or add the test that needs it (see docs/permissions.md).\n',
      );
    }
  } catch (e) {
    // Vitest reports an error thrown here but still exits 0.
    process.exitCode = 1;
    console.error('\nFAIL least privilege: the check itself failed:', e);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function unneededGrants(folder: string): {
  unneeded: string[];
  checked: { statements: number; actions: number; resources: number };
} {
  const statements = new Map<string, Statement>();
  const needed = new Set<string>();
  for (const f of readdirSync(folder)) {
    const l = JSON.parse(readFileSync(join(folder, f), 'utf8')) as {
      subjects: Statement[];
      needed: string[];
    };
    for (const s of l.subjects) statements.set(JSON.stringify({ ...s, Sid: undefined }), s);
    for (const n of l.needed) needed.add(n);
  }
  const list = (v: string | string[] | undefined) => (v === undefined ? [] : typeof v === 'string' ? [v] : v);
  const out: string[] = [];
  const checked = { statements: statements.size, actions: 0, resources: 0 };
  for (const [key, s] of statements) {
    checked.actions += list(s.Action).length;
    checked.resources += list(s.Resource).length;
    if (!needed.has(`S|${key}`)) {
      out.push(`${s.Sid}: the whole statement ${JSON.stringify(list(s.Action))}`);
      continue;
    }
    for (const a of list(s.Action)) if (!needed.has(`A|${key}|${a}`)) out.push(`${s.Sid}: action ${a}`);
    for (const r of list(s.Resource)) if (!needed.has(`R|${key}|${r}`)) out.push(`${s.Sid}: resource ${r}`);
  }
  return { unneeded: out.sort(), checked };
}
