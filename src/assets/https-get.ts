/**
 * The one HTTPS call both in-VPC clients make, as JavaScript source pasted into each script (the
 * canary, src/assets/canary-script.ts, CommonJS; the drill's probe, src/assets/probe-function.ts,
 * an ES module): it needs no import of its own, the caller passes Node's `https` and `tls`.
 *
 * `httpsGet(https, o)` connects to `o.address` (an IP address or a load balancer's DNS name) and
 * sends SNI and Host `o.host`, the name a client calls, so the listener's certificate and API
 * Gateway's custom domain are chosen as for that client. Verification stays on
 * (`rejectUnauthorized: true`) against `o.ca`. It resolves `{ status, body }` (the body cut at
 * `o.maxBody`) or rejects with a Node error whose `code` says what failed (ETIMEDOUT,
 * ECONNREFUSED, a TLS code such as ERR_TLS_CERT_ALTNAME_INVALID or SELF_SIGNED_CERT_IN_CHAIN).
 *
 * `trustedCas(tls, pem)`: Node's own roots plus drctl's private CA certificates, so the call
 * verifies a private certificate and a public one (config certificateArn) alike; undefined (the
 * defaults) when no PEM was bundled.
 */
export const HTTPS_GET_SOURCE = `function trustedCas(tls, pem) {
  return pem && pem.trim() ? [...tls.rootCertificates, pem] : undefined;
}

function httpsGet(https, o) {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: o.address, port: o.port || 443, servername: o.host, path: o.path, method: 'GET',
        ca: o.ca, rejectUnauthorized: true, timeout: o.timeoutMs,
        headers: { host: o.host, accept: 'application/json', 'user-agent': o.userAgent } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => { if (body.length < o.maxBody) body += c; });
        res.on('end', () => resolve({ status: res.statusCode, body: body.slice(0, o.maxBody) }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () =>
      req.destroy(Object.assign(new Error('no answer within ' + o.timeoutMs + ' ms'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end();
  });
}
`;
