/**
 * `node --import tsx --import test/support/fake-cloud-preload.ts bin/drctl.js ARGS`: the built CLI,
 * unchanged, on the fake cloud. The SDK clients dist/ imports are the same modules as the fake's, so
 * its mocks answer; dist's real clock is pointed at the fake's virtual one, so waits take no time.
 * A fresh process has an empty cloud: DRCTL_FAKE_SEED="up" runs that command first in this same
 * process (its output dropped), so the command under test finds what it made.
 * DRCTL_FAKE_STS=expired|invalid makes GetCallerIdentity refuse the credentials.
 * DRCTL_FAKE_ACCOUNT=444455556666 makes STS answer, after the seed, as a caller of that account
 * (`FakeSts.callerAccount`): credentials of another account than the one the seed recorded.
 * DRCTL_FAKE_DELETE="ec2:key-pair:drctl-us-west-1" deletes a resource after the seed (drift).
 * DRCTL_FAKE_WAIT_S=600 lets that much virtual time pass after the seed (canary runs, alarm data).
 * DRCTL_FAKE_FAULTS=JSON sets the fake's fault injection after the seed.
 * DRCTL_FAKE_SEED_FAULTS=JSON sets it for the seed alone, DRCTL_FAKE_SEED_EXIT=2 the seed's expected
 * exit code; the faults are cleared after it (credentials that expired: the user logs in again).
 * DRCTL_FAKE_SNAPSHOT=file writes, at exit, what the cloud holds and what changed it
 * ({resources, mutatingCalls, mutatingAfterSeed}: the command under test's own mutating calls;
 * stateAfterSeed: the text of .drctl/state.json in the working directory right after the seed, so a
 * test can tell the command under test left it byte-identical).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createFakeCloud, FakeSts } from './fake-cloud/index.js';

// dist/ by URL, typed as its source: the very modules bin/drctl.js loads.
const dist = (file: string) => new URL(`../../dist/${file}`, import.meta.url).href;
const { realClock } = (await import(dist('lib/clock.js'))) as typeof import('../../src/lib/clock.js');
const cloud = createFakeCloud();
// The caller holds the policy `drctl iam-policy` prints for this command line's config and state.
cloud.authorizer.actAsFor(process.argv.slice(2), process.cwd());
Object.assign(realClock, {
  now: () => cloud.clock.now(),
  sleep: (ms: number, signal?: AbortSignal) => cloud.clock.sleep(ms, signal),
});

let mutatingBySeed = 0;
let stateAfterSeed: string | undefined;
const snapshotFile = process.env.DRCTL_FAKE_SNAPSHOT;
if (snapshotFile)
  process.on('exit', () => {
    const mutatingCalls = cloud.mutatingCalls.length;
    writeFileSync(
      snapshotFile,
      JSON.stringify({
        resources: cloud.snapshot(),
        mutatingCalls,
        mutatingAfterSeed: mutatingCalls - mutatingBySeed,
        ...(stateAfterSeed === undefined ? {} : { stateAfterSeed }),
      }),
    );
  });

// The team's own API (config api.restApiId, issue 25): DRCTL_FAKE_TEAM_API=1 imports one in the
// primary (PRIVATE, GET /health, deployed to prod) before the seed, by another user of the account,
// and writes its id into drctl.config.json; DRCTL_FAKE_TEAM_API_ROUTE=/orders adds that route and
// deploys it after the seed (the team changed its API between two ups).
const teamApi = process.env.DRCTL_FAKE_TEAM_API ? await seedTeamApi() : undefined;
async function seedTeamApi(): Promise<{ region: string; id: string }> {
  const team = await import('./team-api.js');
  const file = join(process.cwd(), 'drctl.config.json');
  const config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, any>;
  const region = String(config.primary?.region ?? 'sa-east-1');
  const id = await team.seedTeamApi(cloud, region, { paths: { '/health': team.teamGet() } });
  writeFileSync(file, JSON.stringify({ ...config, api: { ...config.api, restApiId: id } }, null, 2));
  await cloud.clock.sleep(10_000);
  return { region, id };
}

const seed = process.env.DRCTL_FAKE_SEED;
const seedFaults = process.env.DRCTL_FAKE_SEED_FAULTS;
if (seed) {
  if (seedFaults) cloud.faults = JSON.parse(seedFaults) as typeof cloud.faults;
  const { main } = (await import(dist('cli/main.js'))) as typeof import('../../src/cli/main.js');
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  const code = await main(['node', 'drctl', '--yes', ...seed.split(' ')], {
    stdout: sink,
    stderr: sink,
    isTTY: false,
    env: {},
  });
  const expected = Number(process.env.DRCTL_FAKE_SEED_EXIT ?? 0);
  if (code !== expected)
    throw new Error(`fake-cloud seed \`drctl ${seed}\` exited ${code}, not ${expected}:\n${text}`);
  if (seedFaults) cloud.revive();
  mutatingBySeed = cloud.mutatingCalls.length;
  const statePath = join(process.cwd(), '.drctl/state.json');
  if (existsSync(statePath)) stateAfterSeed = readFileSync(statePath, 'utf8');
}

const teamRoute = process.env.DRCTL_FAKE_TEAM_API_ROUTE;
if (teamApi && teamRoute) {
  const team = await import('./team-api.js');
  await cloud.clock.sleep(10_000);
  await team.mergePaths(cloud, teamApi.region, teamApi.id, { [teamRoute]: team.teamGet() });
  await cloud.clock.sleep(10_000);
  // The team's change is not the command under test's.
  mutatingBySeed = cloud.mutatingCalls.length;
}

// Let virtual time pass after the seed (canary runs, alarm data): DRCTL_FAKE_WAIT_S=600.
const wait = Number(process.env.DRCTL_FAKE_WAIT_S ?? 0);
if (wait > 0) await cloud.clock.sleep(wait * 1000);

const drop = process.env.DRCTL_FAKE_DELETE;
if (drop) {
  const [service, kind, name] = drop.split(':');
  if (service !== 'ec2' || kind !== 'key-pair' || !name)
    throw new Error(`DRCTL_FAKE_DELETE: unknown ${drop}`);
  const { EC2Client, DeleteKeyPairCommand } = await import('@aws-sdk/client-ec2');
  await new EC2Client({ region: name.replace(/^drctl-/, '') }).send(
    new DeleteKeyPairCommand({ KeyName: name }),
  );
}

// After the seed, so its calls do not count: e.g. {"failMutating":1} fails the next mutating call.
const faults = process.env.DRCTL_FAKE_FAULTS;
if (faults) {
  cloud.revive();
  cloud.faults = JSON.parse(faults) as typeof cloud.faults;
}

const sts = process.env.DRCTL_FAKE_STS;
if (sts === 'expired' || sts === 'invalid') cloud.model(FakeSts).credentials = sts;

// Another account than the seed's (the account guard): set after the seed, which records its own.
const account = process.env.DRCTL_FAKE_ACCOUNT;
if (account) cloud.model(FakeSts).callerAccount = account;
