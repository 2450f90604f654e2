// A bare node:http server whose every answer the test writes: for answers MockTokenServer would never
// give (crafted JWT expiry and Date headers, hostile error codes, echoes of what it was sent, partial
// discovery). Listens on 127.0.0.1:0 and is closed after the test.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { UnsecuredJWT } from 'jose';

/** A request as the server received it. */
export interface RawRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** An answer: a JSON body unless `body` is a string; status 200 by default. */
export interface RawAnswer {
  /** `hang`: never answer; `reset`: drop the connection. */
  readonly fault?: 'hang' | 'reset';
  readonly status?: number;
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
}

export interface RawTokenServer {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly url: string;
  /** Every request, in order. */
  readonly requests: RawRequest[];
  /** Decides each answer (at once, or when the promise settles); may be replaced between scenes. */
  respond: (request: RawRequest) => RawAnswer | Promise<RawAnswer>;
}

/** Starts a server answering with `respond`, closed by `t.after`. */
export async function startRawTokenServer(
  t: TestContext,
  respond: (request: RawRequest) => RawAnswer | Promise<RawAnswer>,
): Promise<RawTokenServer> {
  const requests: RawRequest[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const request: RawRequest = {
        method: req.method ?? '',
        path: (req.url ?? '/').split('?')[0] ?? '/',
        headers: req.headers,
        body,
      };
      requests.push(request);
      void Promise.resolve(fixture.respond(request)).then((answer) => {
        if (answer.fault === 'hang') return;
        if (answer.fault === 'reset') return void req.socket.destroy();
        const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body ?? {});
        const type = typeof answer.body === 'string' ? 'text/plain' : 'application/json';
        res.writeHead(answer.status ?? 200, { 'content-type': type, ...answer.headers });
        res.end(text);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const fixture: RawTokenServer = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    respond,
  };
  t.after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return fixture;
}

/** An unsigned JWT access token expiring at `expMs` (ms since the epoch, whole seconds kept). */
export function jwtExpiringAt(expMs: number): string {
  return new UnsecuredJWT({ sub: 'orders-svc' }).setExpirationTime(Math.floor(expMs / 1000)).encode();
}

/** A `Date` header value for `ms`. */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

/** What `request` carried (its Authorization header and body), as a server that echoes it back would say it. */
export function echoOf(request: RawRequest): string {
  return `you sent ${request.headers.authorization ?? ''} and ${request.body}`.replace(/"/g, '');
}

/** A 401 whose challenge and JSON body both echo `request` in their error description. */
export function echoingChallenge(request: RawRequest): RawAnswer {
  return {
    status: 401,
    headers: { 'www-authenticate': `Basic error="invalid_client", error_description="${echoOf(request)}"` },
    body: { error: 'invalid_client', error_description: echoOf(request) },
  };
}
