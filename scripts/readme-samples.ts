/**
 * `node --import tsx scripts/readme-samples.ts`: runs drctl against the fake cloud
 * (test/support/fake-cloud) as a person would in a terminal without a TTY, and prints what they
 * see, command by command. The README's sample outputs are cut from this, so none is invented.
 * Times are the fake cloud's virtual time (its delays come from public measurements, see
 * test/support/fake-cloud/delays.ts), not a promise; ids are the fake's. The temporary working
 * directory is printed as `.`.
 *
 * test/docs/readme.test.ts checks that every `$ drctl ...` sample in README.md and docs/ is one of
 * SAMPLE_COMMANDS, the commands this script runs.
 */
import { pathToFileURL } from 'node:url';

/** The commands run here, in order (a foreign record is added before the first `down`). */
export const SAMPLE_COMMANDS: readonly string[][] = [
  ['plan'],
  ['up'],
  ['up'], // a re-run: every step verified, nothing changed
  ['status'],
  ['failover-test'],
  ['failover-test', '--mode', 'outage'],
  ['down', '--yes'],
  ['down', '--yes'],
];

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const { Harness } = await import('../test/support/harness.js');
  const { ChangeResourceRecordSetsCommand, Route53Client } = await import('@aws-sdk/client-route-53');

  const h = new Harness();
  const show = async (args: string[]) => {
    const r = await h.run(args);
    // Progress and errors go to stderr, results to stdout: a terminal shows both.
    const text = (r.stderr + r.stdout).split(h.dir).join('.');
    process.stdout.write(`\n$ drctl ${args.join(' ')}\n${text}[exit ${r.code}]\n`);
    return r;
  };

  /** Someone else's record in drctl's private zone: the "hosted zone not empty" trap on `down`. */
  async function foreignRecord(action: 'UPSERT' | 'DELETE') {
    const zoneId = String(h.state()?.steps['hosted-zone']?.global?.resources.hostedZoneId);
    const route53 = new Route53Client({
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake' },
    });
    await route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: {
          Changes: [
            {
              Action: action,
              ResourceRecordSet: {
                Name: 'db.octank.com',
                Type: 'A',
                TTL: 300,
                ResourceRecords: [{ Value: '10.0.9.9' }],
              },
            },
          ],
        },
      }),
    );
  }

  try {
    let downs = 0;
    for (const args of SAMPLE_COMMANDS) {
      // The first `down` meets someone else's record in the zone; it is gone before the second.
      if (args[0] === 'down') await foreignRecord(downs++ === 0 ? 'UPSERT' : 'DELETE');
      await show(args);
    }
    process.stdout.write(`\nleft in the fake cloud: ${JSON.stringify(h.cloud.snapshot())}\n`);
  } finally {
    h.cleanup();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
