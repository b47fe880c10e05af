import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CANARY_CA_FILE, CANARY_SCRIPT, CANARY_SCRIPT_FILE } from '../../src/assets/canary-script.js';

// The canary's real script (what Synthetics runs, CommonJS), laid out as the zip puts it under
// /opt/nodejs/node_modules (the script and its CA file side by side), against a local HTTPS server
// on 127.0.0.1 with a certificate for api.example.test from a throwaway CA
// (test/fixtures/probe-tls). PROBE_VIA is an address, so no DNS server is needed.

const fixture = (f: string) => readFileSync(new URL(`../fixtures/probe-tls/${f}`, import.meta.url), 'utf8');
type Handler = () => Promise<string>;

let server: Server;
let port = 0;
const dirs: string[] = [];
const ENV = ['PROBE_HOST', 'PROBE_VIA', 'PROBE_PATH', 'PROBE_PORT', 'EXPECTED_REGION', 'PROBE_TIMEOUT_MS'];

function load(caBundle: string | undefined): Handler {
  const dir = mkdtempSync(join(tmpdir(), 'drctl-canary-'));
  dirs.push(dir);
  const file = join(dir, `${CANARY_SCRIPT_FILE}.js`);
  writeFileSync(file, CANARY_SCRIPT);
  if (caBundle !== undefined) writeFileSync(join(dir, CANARY_CA_FILE), caBundle);
  return (createRequire(import.meta.url)(file) as { handler: Handler }).handler;
}

beforeAll(async () => {
  server = createServer({ key: fixture('server.key'), cert: fixture('server.pem') }, (req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/health' && req.headers.host === 'api.example.test') {
      res.end(JSON.stringify({ status: 'ok', region: 'us-west-1' }));
    } else if (req.url === '/html') {
      res.end('<html>');
    } else {
      res.statusCode = 403;
      res.end(JSON.stringify({ message: 'Forbidden' }));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

const setEnv = (over: Record<string, string> = {}) =>
  Object.assign(process.env, {
    PROBE_HOST: 'api.example.test',
    PROBE_VIA: '127.0.0.1',
    PROBE_PATH: '/health',
    PROBE_PORT: String(port),
    EXPECTED_REGION: 'us-west-1',
    PROBE_TIMEOUT_MS: '2000',
    ...over,
  });

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  for (const k of ENV) delete process.env[k];
});

describe('the canary script (real code, local HTTPS)', () => {
  it('calls the client name through the given address with SNI and Host, trusting the bundled CA, and passes on its region', async () => {
    setEnv();
    await expect(load(fixture('ca.pem'))()).resolves.toBe('ok');
  });

  it('fails when the certificate does not chain to a bundled CA (verification is on)', async () => {
    setEnv();
    await expect(load('')()).rejects.toThrow(/SELF_SIGNED|UNABLE_TO_GET_ISSUER|UNABLE_TO_VERIFY|CERT/);
    await expect(load(undefined)()).rejects.toThrow(/SELF_SIGNED|UNABLE_TO_GET_ISSUER|UNABLE_TO_VERIFY|CERT/);
  });

  it('fails when the certificate does not cover the name it calls', async () => {
    setEnv({ PROBE_HOST: 'other.example.test' });
    await expect(load(fixture('ca.pem'))()).rejects.toThrow(/ERR_TLS_CERT_ALTNAME_INVALID/);
  });

  it('fails on another region, a non-200 or a body that is not JSON, naming what it called', async () => {
    setEnv({ EXPECTED_REGION: 'sa-east-1' });
    await expect(load(fixture('ca.pem'))()).rejects.toThrow(
      /GET https:\/\/api\.example\.test\/health via 127\.0\.0\.1 answered for region us-west-1, expected sa-east-1/,
    );
    setEnv({ PROBE_PATH: '/pets' });
    await expect(load(fixture('ca.pem'))()).rejects.toThrow(/answered 403/);
    setEnv({ PROBE_PATH: '/html' });
    await expect(load(fixture('ca.pem'))()).rejects.toThrow(/not JSON/);
  });

  it('fails on a refused connection and on missing settings', async () => {
    setEnv({ PROBE_PORT: '1' });
    await expect(load(fixture('ca.pem'))()).rejects.toThrow(/ECONNREFUSED|EACCES/);
    setEnv({ PROBE_VIA: '' });
    await expect(load(fixture('ca.pem'))()).rejects.toThrow(/must be set/);
  });
});
