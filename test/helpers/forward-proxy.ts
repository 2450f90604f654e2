// A real HTTP proxy on 127.0.0.1:0 for tests: forwards absolute-URL requests (plain http targets) and
// opens CONNECT tunnels (https targets), recording each, optionally demanding Basic credentials.
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import type { TestContext } from 'node:test';

/** One request the proxy handled. */
export interface ProxiedRequest {
  /** `'forward'` for a plain http request, `'connect'` for a tunnel. */
  readonly kind: 'forward' | 'connect';
  /** `METHOD path` of a forwarded request, `host:port` of a tunnel. */
  readonly target: string;
  readonly proxyAuthorization: string | undefined;
}

export interface ForwardProxy {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly requests: ProxiedRequest[];
}

/**
 * Starts the proxy, closed by `t.after`. With `credentials`, a request without the matching
 * `Proxy-Authorization: Basic` header gets 407 and goes nowhere.
 */
export async function startForwardProxy(
  t: TestContext,
  credentials?: { user: string; password: string },
): Promise<ForwardProxy> {
  const requests: ProxiedRequest[] = [];
  const expected =
    credentials && `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString('base64')}`;
  const allowed = (req: IncomingMessage): boolean =>
    expected === undefined || req.headers['proxy-authorization'] === expected;
  const sockets = new Set<Socket>();

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '');
    requests.push({
      kind: 'forward',
      target: `${req.method ?? ''} ${url.pathname}`,
      proxyAuthorization: req.headers['proxy-authorization'],
    });
    if (!allowed(req)) {
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="test"' }).end();
      return;
    }
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const upstream = httpRequest(
      { host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, method: req.method, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    requests.push({ kind: 'connect', target: req.url ?? '', proxyAuthorization: req.headers['proxy-authorization'] });
    client.on('error', () => undefined);
    if (!allowed(req)) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\n\r\n');
      return;
    }
    const [host = '', port = ''] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

const proxyVariables = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy'] as const;

/** Sets the proxy variables for one test (unset unless given), restoring them with `t.after`. */
export function proxyEnvironment(
  t: TestContext,
  values: Partial<Record<(typeof proxyVariables)[number], string>>,
): void {
  const saved = proxyVariables.map((name) => [name, process.env[name]] as const);
  for (const name of proxyVariables) {
    if (values[name] === undefined) delete process.env[name];
    else process.env[name] = values[name];
  }
  t.after(() => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
}
