import { configReference } from './config-doc.js';

/** The README sections generated from code, by marker name. */
export function generatedSections(): Promise<Record<string, string>> {
  return Promise.resolve({ 'config-reference': configReference() });
}

export function replaceSections(text: string, sections: Record<string, string>): string {
  let out = text;
  for (const [name, body] of Object.entries(sections)) {
    const re = new RegExp(`(<!-- generated:${name} -->)[\\s\\S]*?(<!-- /generated:${name} -->)`);
    if (!re.test(out)) throw new Error(`README has no <!-- generated:${name} --> section`);
    out = out.replace(re, (_m, open: string, close: string) => `${open}\n${body}\n${close}`);
  }
  return out;
}
