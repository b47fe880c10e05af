import { InterruptedError } from '../errors/errors.js';

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
