import { strToU8, zipSync } from 'fflate';
import { z } from 'zod';
import { HTTPS_GET_SOURCE } from './https-get.js';

/**
 * The failover drill's ground truth: a small Lambda function in the secondary VPC (the probe
 * step) that does what a client inside the VPCs does. It resolves PROBE_HOST (<host>.<domain>)
 * through the VPC's resolver, so it sees the private zone's failover answer with its TTL, then
 * GETs https://<host>.<domain><PROBE_PATH> through each answered address in turn, with SNI and
 * Host set to the name, trusting both regions' private root CAs (ca-bundle.pem in the zip) on top
 * of Node's own roots. It returns what it saw and never throws: a failure is data for the drill.
 *
 * The event may name `via` (an NLB DNS name, or an address) to call that instead of the answer:
 * the drill checks the secondary end to end before it injects a fault. It may name `path` (the
 * config's api.healthPath): the callers send it each time, so changing the health path needs no
 * redeploy; PROBE_PATH stays as the fallback for a caller that sends none.
 *
 * `dns.resolve4` asks the resolver each time (no OS cache in Lambda), so the TTL seen is what the
 * resolver holds. No log group is used: the role has no logs:* permission, so nothing is left
 * behind by `down`; the result comes back in the Invoke response.
 */
export const PROBE_FILE = 'index.mjs';
export const PROBE_HANDLER = 'index.handler';
export const PROBE_CA_FILE = 'ca-bundle.pem';
export const PROBE_RUNTIME = 'nodejs22.x';

export const PROBE_SOURCE = `// drctl failover probe: resolve PROBE_HOST in this VPC and GET event.path through the answer.
import { promises as dns } from 'node:dns';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';

const CA = readFileSync(new URL('./${PROBE_CA_FILE}', import.meta.url), 'utf8');
const TRUST = trustedCas(tls, CA);
const MAX_BODY = 4096;

${HTTPS_GET_SOURCE}
const get = (address, host, path, timeoutMs) =>
  httpsGet(https, { address, host, path, port: Number(process.env.PROBE_PORT || '443'), ca: TRUST,
    timeoutMs, maxBody: MAX_BODY, userAgent: 'drctl-probe' });

export const handler = async (event) => {
  const host = process.env.PROBE_HOST;
  const path = event && typeof event.path === 'string' && event.path.startsWith('/')
    ? event.path : process.env.PROBE_PATH || '/health';
  const timeoutMs = Number(process.env.PROBE_TIMEOUT_MS || '3000');
  const via = event && typeof event.via === 'string' ? event.via : undefined;
  const started = Date.now();
  const base = { host, via, path, checkedAt: new Date().toISOString() };
  const target = via || host;
  let records;
  try {
    records = net.isIP(target) ? [{ address: target, ttl: 0 }] : await dns.resolve4(target, { ttl: true });
  } catch (e) {
    return { ...base, answer: [], error: 'dns: ' + (e.code || e.message) };
  }
  const answer = records.map((r) => r.address);
  const ttlSeconds = Math.min(...records.map((r) => r.ttl));
  let last = {};
  for (const address of answer) {
    try {
      const r = await get(address, host, path, timeoutMs);
      last = { address, status: r.status, body: r.body };
      break;
    } catch (e) {
      last = { address, error: e.code || e.message };
    }
  }
  let region;
  try {
    region = JSON.parse(last.body || '').region;
  } catch {
    region = undefined;
  }
  return { ...base, answer, ttlSeconds, ...last, region: typeof region === 'string' ? region : undefined,
    elapsedMs: Date.now() - started };
};
`;

/** What one invocation returns (parsed at the edge: the drill trusts nothing else). */
export const probeResultSchema = z.object({
  host: z.string().optional(),
  via: z.string().optional(),
  answer: z.array(z.string()),
  ttlSeconds: z.number().optional(),
  address: z.string().optional(),
  status: z.number().int().optional(),
  region: z.string().optional(),
  body: z.string().optional(),
  error: z.string().optional(),
  checkedAt: z.string().optional(),
});
export type ProbeResult = z.infer<typeof probeResultSchema>;

// A zip is stamped with file times: a fixed one keeps the code, and Lambda's CodeSha256 of it,
// the same every run, so a re-run of `up` can tell that nothing changed.
const ZIP_MTIME = new Date('2020-01-01T00:00:00Z');

/** The function's deployment package: the handler and the CA certificates it trusts. */
export function probeZip(caPems: string[]): Uint8Array {
  const bundle = caPems.map((p) => `${p.trim()}\n`).join('');
  return zipSync({
    [PROBE_FILE]: [strToU8(PROBE_SOURCE), { mtime: ZIP_MTIME }],
    [PROBE_CA_FILE]: [strToU8(bundle), { mtime: ZIP_MTIME }],
  });
}
