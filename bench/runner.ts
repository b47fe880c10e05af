import { join } from 'node:path';
import { AwsClients } from '../src/aws/clients.js';
import { defaultConfig } from '../src/config/config.js';
import { nullSink } from '../src/io/events.js';
import { Runner } from '../src/engine/runner.js';
import { StateStore } from '../src/state/store.js';
import type { FakeCloud } from '../test/support/fake-cloud/index.js';

/** drctl's engine with the workshop defaults, on the fake cloud and its clock, state in `dir`. */
export function benchRunner(cloud: FakeCloud, dir: string): Runner {
  const config = defaultConfig();
  return new Runner({
    config,
    store: StateStore.open(join(dir, 'state.json'), config),
    aws: new AwsClients({
      clock: cloud.clock,
      credentials: () => Promise.resolve({ accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' }),
    }),
    clock: cloud.clock,
    sink: nullSink,
    signal: new AbortController().signal,
    paths: { root: dir, keys: join(dir, 'keys'), ca: join(dir, 'ca') },
  });
}
