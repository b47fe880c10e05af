import { InterruptedError, UsageError } from '../errors/errors.js';
import type { Session } from './session.js';

// Questions to a person at a terminal. @inquirer/confirm and @inquirer/input (loaded only when a
// question is asked, so `drctl --help` stays light) own the terminal while they ask: raw mode, the
// cursor, and Ctrl-C, which they turn into an ExitPromptError and we into exit 130.

export interface PromptStreams {
  input?: NodeJS.ReadableStream;
  /** Prompts go to stderr, so `drctl … | tee` keeps stdout clean. */
  output: NodeJS.WritableStream;
  /** Aborted (SIGTERM, tests): the question is withdrawn and the command ends with 130. */
  signal?: AbortSignal;
}

const isPromptExit = (e: unknown) =>
  e instanceof Error && (e.name === 'ExitPromptError' || e.name === 'AbortPromptError');

const interrupted = () => new InterruptedError('interrupted at the prompt; nothing was changed');

/** A yes/no question; the default is no. */
export async function askYesNo(message: string, io: PromptStreams): Promise<boolean> {
  const { default: confirm } = await import('@inquirer/confirm');
  try {
    return await confirm({ message, default: false }, io);
  } catch (e) {
    if (isPromptExit(e)) throw interrupted();
    throw e;
  }
}

/** A typed answer (e.g. the deployment name that confirms `down`). */
export async function askText(message: string, io: PromptStreams): Promise<string> {
  const { default: input } = await import('@inquirer/input');
  try {
    return await input({ message }, io);
  } catch (e) {
    if (isPromptExit(e)) throw interrupted();
    throw e;
  }
}

/** Whether a question can be asked: a terminal, or an answer injected by a test. */
const canAsk = (s: Session) => !!s.deps.confirm || (s.deps.isTTY ?? process.stdin.isTTY === true);

/** Before anything is read from AWS: a change that needs confirmation, no terminal and no --yes, is exit 2. */
export function requireConfirmable(s: Session, what: string): void {
  if (s.opts.yes || canAsk(s)) return;
  throw new UsageError(`${what} and needs confirmation`, {
    field: '--yes',
    resolution: 'Pass --yes to confirm when running without a terminal.',
  });
}

/** Ask; `expect`: the answer must be typed exactly (the deployment's name), else yes/no. */
export async function ask(
  s: Session,
  question: string,
  expect?: string,
  onAnswer?: (answer: string) => void,
): Promise<boolean> {
  if (s.deps.confirm) {
    const answer = (await s.deps.confirm(question)).trim();
    onAnswer?.(answer);
    return expect !== undefined ? answer === expect : /^y(es)?$/i.test(answer);
  }
  const io = { input: process.stdin, output: s.deps.stderr, signal: s.signals.stop };
  if (expect !== undefined) {
    const answer = (await s.reporter.suspend(() => askText(question, io))).trim();
    onAnswer?.(answer);
    return answer === expect;
  }
  return s.reporter.suspend(() => askYesNo(question, io));
}
