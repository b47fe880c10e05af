import { configReference } from './reference.js';

/** The sections of the docs generated from code: file (from the repository root) -> marker name -> text. */
export function generatedSections(): Promise<Record<string, Record<string, string>>> {
  return Promise.resolve({ 'docs/configuration.md': { 'config-reference': configReference() } });
}

/** `text` with each `<!-- generated:NAME -->` ... `<!-- /generated:NAME -->` section replaced. */
export function replaceSections(text: string, sections: Record<string, string>, file = 'the file'): string {
  let out = text;
  for (const [name, body] of Object.entries(sections)) {
    const re = new RegExp(`(<!-- generated:${name} -->)[\\s\\S]*?(<!-- /generated:${name} -->)`);
    if (!re.test(out)) throw new Error(`${file} has no <!-- generated:${name} --> section`);
    out = out.replace(re, (_m, open: string, close: string) => `${open}\n${body}\n${close}`);
  }
  return out;
}
