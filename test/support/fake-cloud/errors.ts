/** Errors shaped as the SDK throws them: `name` is the AWS error code, with `$metadata` and `$fault`. */
export class FakeAwsError extends Error {
  readonly $fault: 'client' | 'server';
  readonly $metadata: { httpStatusCode: number; requestId: string };
  constructor(name: string, message: string, status = 400) {
    super(message);
    this.name = name;
    this.$fault = status >= 500 ? 'server' : 'client';
    this.$metadata = { httpStatusCode: status, requestId: `fake-${Math.random().toString(16).slice(2, 10)}` };
  }
}

export const awsError = (name: string, message: string, status = 400) =>
  new FakeAwsError(name, message, status);

/**
 * Thrown by every call once a test has "killed" drctl: the AWS side of the call happened, but the
 * process never saw the answer. Not an AWS error, so nothing classifies it as transient.
 */
export class SimulatedCrash extends Error {
  constructor(message = 'simulated crash: the process died here') {
    super(message);
    this.name = 'SimulatedCrash';
  }
}
