import { HTTPS_GET_SOURCE } from './https-get.js';

/**
 * The canary's script: what a client does, pinned to the canary's own region. It resolves
 * PROBE_VIA, the region's own NLB DNS name (never the failover name <host>.<domain>: after a
 * failover that name answers from the other region, and the primary's check would heal itself),
 * and GETs https://PROBE_HOST/PROBE_PATH through each address in turn with SNI and Host PROBE_HOST
 * = <host>.<domain>, verifying the listener's certificate against the region's private root CA
 * (bundled in the zip beside the script) and Node's own roots. It passes only on a 200 whose JSON
 * body names EXPECTED_REGION. So the certificate (name, chain, expiry), the NLB and its listener
 * and targets, the custom domain and its base path mapping, the endpoint and the API are all on
 * the path it tests, as for a client. The HTTPS call is the drill probe's own (src/assets/https-get.ts).
 *
 * Plain `https` rather than the Synthetics library: its module names changed between runtime
 * families (`Synthetics` vs `@aws/synthetics-puppeteer`), and a throw is all a run needs to fail
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Canaries_WritingCanary_Nodejs.html).
 *
 * Synthetics wants Node scripts at nodejs/node_modules/<file>.js, with Handler `<file>.handler`
 * (https://docs.aws.amazon.com/AmazonSynthetics/latest/APIReference/API_CanaryCodeInput.html);
 * the zip becomes a Lambda layer under /opt, so files beside the script are read from __dirname.
 */
export const CANARY_SCRIPT_FILE = 'drctlprobe';
export const CANARY_HANDLER = `${CANARY_SCRIPT_FILE}.handler`;
export const CANARY_SCRIPT_PATH = `nodejs/node_modules/${CANARY_SCRIPT_FILE}.js`;
/** The CA certificates the script trusts, beside it in the zip. */
export const CANARY_CA_FILE = `${CANARY_SCRIPT_FILE}-ca.pem`;
export const CANARY_CA_PATH = `nodejs/node_modules/${CANARY_CA_FILE}`;

export const CANARY_SCRIPT = `'use strict';
// drctl canary: GET https://PROBE_HOST/PROBE_PATH through PROBE_VIA (this region's own NLB), SNI and
// Host PROBE_HOST, trusting the bundled CA; pass only on 200 with a JSON body whose "region" is EXPECTED_REGION.
const dns = require('dns');
const fs = require('fs');
const https = require('https');
const net = require('net');
const path = require('path');
const tls = require('tls');

const MAX_BODY_BYTES = 64 * 1024;

${HTTPS_GET_SOURCE}
function readCa() {
  try {
    return fs.readFileSync(path.join(__dirname, '${CANARY_CA_FILE}'), 'utf8');
  } catch (e) {
    return '';
  }
}

async function addressesOf(name) {
  if (net.isIP(name)) return [name];
  return dns.promises.resolve4(name);
}

exports.handler = async function handler() {
  const env = process.env;
  const host = env.PROBE_HOST;
  const via = env.PROBE_VIA;
  const probePath = env.PROBE_PATH || '/health';
  const expectedRegion = env.EXPECTED_REGION;
  const timeoutMs = Number(env.PROBE_TIMEOUT_MS || '10000');
  if (!host || !via || !expectedRegion) throw new Error('PROBE_HOST, PROBE_VIA and EXPECTED_REGION must be set');
  const what = 'GET https://' + host + probePath + ' via ' + via;
  const ca = trustedCas(tls, readCa());
  let addresses;
  try {
    addresses = await addressesOf(via);
  } catch (e) {
    throw new Error(what + ': cannot resolve ' + via + ': ' + (e.code || e.message));
  }
  const failures = [];
  let answer;
  for (const address of addresses) {
    try {
      answer = await httpsGet(https, { address, host, path: probePath, port: Number(env.PROBE_PORT || '443'), ca,
        timeoutMs, maxBody: MAX_BODY_BYTES, userAgent: 'drctl-canary' });
      break;
    } catch (e) {
      failures.push(address + ': ' + (e.code || e.message));
    }
  }
  if (!answer) throw new Error(what + ' failed: ' + (failures.join('; ') || 'no address'));
  const { status, body } = answer;
  const excerpt = String(body).slice(0, 200);
  if (status !== 200) throw new Error(what + ' answered ' + status + ': ' + excerpt);
  let parsed;
  try {
    parsed = JSON.parse(body);
  } catch (e) {
    throw new Error(what + ' answered 200 but not JSON: ' + excerpt);
  }
  const region = parsed && typeof parsed === 'object' ? parsed.region : undefined;
  if (region !== expectedRegion) {
    throw new Error(what + ' answered for region ' + region + ', expected ' + expectedRegion);
  }
  console.log('ok: ' + what + ' answered for ' + region);
  return 'ok';
};
`;
