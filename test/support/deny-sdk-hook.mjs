// Loaded with `node --import`: fails any import of an AWS SDK client or of the chart library, to prove a
// command starts without them.
import { register } from 'node:module';

register(
  'data:text/javascript,' +
    encodeURIComponent(`
export async function resolve(specifier, context, next) {
  if (specifier.startsWith('@aws-sdk/') || specifier.startsWith('@smithy/')) {
    throw new Error('start-up loaded the AWS SDK: ' + specifier + ' from ' + context.parentURL);
  }
  if (specifier === 'vega' || specifier.startsWith('vega-') || specifier === 'puppeteer-core') {
    throw new Error('start-up loaded a chart library: ' + specifier + ' from ' + context.parentURL);
  }
  return next(specifier, context);
}`),
);
