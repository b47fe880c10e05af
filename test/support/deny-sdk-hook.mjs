// Loaded with `node --import`: fails any import of an AWS SDK client, to prove a command starts without one.
import { register } from 'node:module';

register(
  'data:text/javascript,' +
    encodeURIComponent(`
export async function resolve(specifier, context, next) {
  if (specifier.startsWith('@aws-sdk/') || specifier.startsWith('@smithy/')) {
    throw new Error('start-up loaded the AWS SDK: ' + specifier + ' from ' + context.parentURL);
  }
  return next(specifier, context);
}`),
);
