import { type IncomingMessage, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in AWS endpoint on 127.0.0.1 for tests of the built CLI: drctl reaches it through
 * AWS_ENDPOINT_URL, as it would reach LocalStack. Each request is answered by `answer`; what came
 * in is kept in `requests` (method, path, the STS/query Action when there is one).
 */
export interface LocalRequest {
  method: string;
  path: string;
  action?: string;
  headers: IncomingMessage['headers'];
}

export interface LocalAnswer {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

export class LocalAws {
  readonly requests: LocalRequest[] = [];
  private server: Server | undefined;

  constructor(private readonly answer: (r: LocalRequest, n: number) => LocalAnswer) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://local');
        const action = new URLSearchParams(body).get('Action') ?? url.searchParams.get('Action') ?? undefined;
        const r: LocalRequest = { method: req.method ?? 'GET', path: url.pathname, headers: req.headers };
        if (action) r.action = action;
        this.requests.push(r);
        const a = this.answer(r, this.requests.length);
        res.writeHead(a.status, { 'content-type': 'application/xml', ...a.headers });
        res.end(a.body ?? '');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    if (this.server) await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}

/** STS GetCallerIdentity, as AWS answers it (query protocol, XML). */
export const callerIdentity: LocalAnswer = {
  status: 200,
  body:
    '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>' +
    '<Arn>arn:aws:iam::123456789012:user/tester</Arn><UserId>AIDATESTER</UserId><Account>123456789012</Account>' +
    '</GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>',
};

/** An S3 REST error (XML body with Code and Message). */
export const s3Error = (status: number, code: string, message = code): LocalAnswer => ({
  status,
  body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message><RequestId>1</RequestId></Error>`,
});

/** Credentials that look real to the SDK and are worth nothing. */
export const FAKE_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKEFAKE',
  AWS_SECRET_ACCESS_KEY: 'fakeSecretKeyThatMustNeverBePrinted000000',
  AWS_REGION: 'us-east-1',
};
