/**
 * The canary's script: one HTTPS GET from inside the VPC to the region's own API through its VPC
 * endpoint (`PROBE_URL`, the api step's vpceInvokeUrl + /health), passing only on a 200 whose JSON
 * body names `EXPECTED_REGION`. Never the failover name <host>.<domain>: after a failover that
 * name answers from the other region, and the primary's check would heal itself.
 *
 * Plain `https` rather than the Synthetics library: its module names changed between runtime
 * families (`Synthetics` vs `@aws/synthetics-puppeteer`), and a throw is all a run needs to fail
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Canaries_WritingCanary_Nodejs.html).
 * The execute-api certificate is public, so Node's default trust store verifies it.
 *
 * Synthetics wants Node scripts at nodejs/node_modules/<file>.js, with Handler `<file>.handler`
 * (https://docs.aws.amazon.com/AmazonSynthetics/latest/APIReference/API_CanaryCodeInput.html).
 */
export const CANARY_SCRIPT_FILE = 'drctlprobe';
export const CANARY_HANDLER = `${CANARY_SCRIPT_FILE}.handler`;
export const CANARY_SCRIPT_PATH = `nodejs/node_modules/${CANARY_SCRIPT_FILE}.js`;

export const CANARY_SCRIPT = `'use strict';
// drctl canary: GET PROBE_URL and pass only on 200 with a JSON body whose "region" is EXPECTED_REGION.
const https = require('https');

const MAX_BODY_BYTES = 64 * 1024;

function get(url, timeoutMs) {
  return new Promise((resolve, reject) => {
    const req = https.get(
      url,
      { timeout: timeoutMs, headers: { accept: 'application/json', 'user-agent': 'drctl-canary' } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          body += chunk;
          if (body.length > MAX_BODY_BYTES) req.destroy(new Error('response body over 64 KiB'));
        });
        res.on('end', () => resolve({ status: res.statusCode, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within ' + timeoutMs + ' ms')));
    req.on('error', reject);
  });
}

exports.handler = async function handler() {
  const url = process.env.PROBE_URL;
  const expectedRegion = process.env.EXPECTED_REGION;
  const timeoutMs = Number(process.env.PROBE_TIMEOUT_MS || '10000');
  if (!url || !expectedRegion) throw new Error('PROBE_URL and EXPECTED_REGION must be set');
  const { status, body } = await get(url, timeoutMs);
  const excerpt = String(body).slice(0, 200);
  if (status !== 200) throw new Error('GET ' + url + ' answered ' + status + ': ' + excerpt);
  let parsed;
  try {
    parsed = JSON.parse(body);
  } catch (e) {
    throw new Error('GET ' + url + ' answered 200 but not JSON: ' + excerpt);
  }
  const region = parsed && typeof parsed === 'object' ? parsed.region : undefined;
  if (region !== expectedRegion) {
    throw new Error('GET ' + url + ' answered for region ' + region + ', expected ' + expectedRegion);
  }
  console.log('ok: ' + url + ' answered for ' + region);
  return 'ok';
};
`;
