import type { AwsClients } from './clients.js';
import type { PollOptions } from './wait.js';

/**
 * What the helpers under aws/ need of their caller, declared here so aws/ imports nothing from
 * steps/, state/ or engine/. A step's context satisfies both.
 */
export interface AwsScope {
  readonly aws: AwsClients;
}

export interface PollingAwsScope extends AwsScope {
  /** pollUntil on the caller's clock, signal and progress line. */
  poll<T>(o: Omit<PollOptions<T>, 'clock' | 'signal' | 'onProgress'>): Promise<T>;
}
