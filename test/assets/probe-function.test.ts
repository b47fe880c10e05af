import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PROBE_CA_FILE,
  PROBE_FILE,
  PROBE_SOURCE,
  probeResultSchema,
} from '../../src/assets/probe-function.js';

// The probe's real code (what runs in Lambda), against a local HTTPS server on 127.0.0.1 with a
// certificate for api.example.test from a throwaway CA (test/fixtures/probe-tls). `via` is an
// address, so no DNS server is needed.

const fixture = (f: string) => readFileSync(new URL(`../fixtures/probe-tls/${f}`, import.meta.url), 'utf8');
type Handler = (event: unknown) => Promise<unknown>;

let server: Server;
let port = 0;
const dirs: string[] = [];

async function load(caBundle: string): Promise<Handler> {
  const dir = mkdtempSync(join(tmpdir(), 'drctl-probe-'));
  dirs.push(dir);
  writeFileSync(join(dir, PROBE_FILE), PROBE_SOURCE);
  writeFileSync(join(dir, PROBE_CA_FILE), caBundle);
  const mod = (await import(pathToFileURL(join(dir, PROBE_FILE)).href)) as { handler: Handler };
  return mod.handler;
}

beforeAll(async () => {
  server = createServer({ key: fixture('server.key'), cert: fixture('server.pem') }, (req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/health' && req.headers.host === 'api.example.test') {
      res.end(JSON.stringify({ status: 'ok', region: 'us-west-1' }));
    } else if (req.url === '/status/live' && req.headers.host === 'api.example.test') {
      res.end(JSON.stringify({ status: 'ok', region: 'us-east-1' }));
    } else {
      res.statusCode = 403;
      res.end(JSON.stringify({ message: 'Forbidden' }));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  Object.assign(process.env, {
    PROBE_HOST: 'api.example.test',
    PROBE_PATH: '/health',
    PROBE_PORT: String(port),
    PROBE_TIMEOUT_MS: '2000',
  });
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  for (const k of ['PROBE_HOST', 'PROBE_PATH', 'PROBE_PORT', 'PROBE_TIMEOUT_MS']) delete process.env[k];
});

describe('the probe function (real code, local HTTPS)', () => {
  it('calls the name through the given address with SNI and Host, trusting the bundled CA, and reports the region', async () => {
    const handler = await load(fixture('ca.pem'));
    const r = probeResultSchema.parse(await handler({ via: '127.0.0.1' }));
    expect(r).toMatchObject({
      host: 'api.example.test',
      via: '127.0.0.1',
      answer: ['127.0.0.1'],
      address: '127.0.0.1',
      status: 200,
      region: 'us-west-1',
    });
    expect(r.error).toBeUndefined();
  });

  it('GETs the path the event names (api.healthPath), not the one baked into its environment', async () => {
    const handler = await load(fixture('ca.pem'));
    const r = probeResultSchema.parse(await handler({ via: '127.0.0.1', path: '/status/live' }));
    expect(r).toMatchObject({ status: 200, region: 'us-east-1' });
  });

  it('refuses a certificate from a CA it was not given, as data (never a throw)', async () => {
    const handler = await load('');
    const r = probeResultSchema.parse(await handler({ via: '127.0.0.1' }));
    expect(r.status).toBeUndefined();
    expect(r.error).toMatch(/CERT|ISSUER|SELF_SIGNED|LEAF_SIGNATURE/);
  });

  it('reports a refused connection', async () => {
    const handler = await load(fixture('ca.pem'));
    process.env.PROBE_PORT = '1';
    try {
      const r = probeResultSchema.parse(await handler({ via: '127.0.0.1' }));
      expect(r.error).toMatch(/ECONNREFUSED|EACCES/);
    } finally {
      process.env.PROBE_PORT = String(port);
    }
  });
});
