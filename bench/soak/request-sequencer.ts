// The token endpoint the soak's managers talk to: a pass-through to the token server that lets one
// request through at a time, in a fixed order. Without it the run is not reproducible: requests sent
// at the same moment of the run would reach the token server (and take its queued faults) in the
// order the operating system happens to deliver them, and their answers would be handled (drawing
// the SDK's jitter) in the order they happen to arrive.
import { createServer, request, Agent, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A request held until the soak lets it through. */
interface HeldRequest {
  readonly order: string;
  readonly clientId: string;
  readonly scope: string;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly body: Buffer;
}

/** A request let through to the token server. */
export interface Exchange {
  readonly clientId: string;
  /** The `scope` parameter, as sent. */
  readonly scope: string;
  /** The status the token server answered with; undefined when it answered none (a hang or a reset). */
  status: number | undefined;
  /** The answer was passed on whole, or the connection ended. */
  done: boolean;
}

/** Headers of one hop that are not passed on. */
const hopHeaders = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length']);

export class RequestSequencer {
  readonly tokenEndpoint: string;
  readonly #server: Server;
  readonly #target: URL;
  readonly #agent = new Agent({ keepAlive: true });
  readonly #sockets = new Set<Socket>();
  readonly #held: HeldRequest[] = [];
  readonly #passing = new Set<Exchange>();
  readonly #hung = new Map<Exchange, ServerResponse>();
  /** Where each exchange's answer goes. */
  readonly #responses = new WeakMap<Exchange, ServerResponse>();

  private constructor(server: Server, target: URL) {
    this.#server = server;
    this.#target = target;
    this.tokenEndpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}${target.pathname}`;
  }

  /** Listens on 127.0.0.1 (a free port), in front of the token endpoint `target`. */
  static async start(target: string): Promise<RequestSequencer> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const sequencer = new RequestSequencer(server, new URL(target));
    server.on('connection', (socket) => {
      sequencer.#sockets.add(socket);
      socket.on('close', () => sequencer.#sockets.delete(socket));
    });
    server.on('request', (req, res) => sequencer.#hold(req, res));
    return sequencer;
  }

  /** Requests that arrived and wait to be let through. */
  get heldCount(): number {
    return this.#held.length;
  }

  /** Requests let through whose answer is still on its way. */
  get passingCount(): number {
    return this.#passing.size;
  }

  /** Requests the token server holds without answering (see {@link RequestSequencer.markHung}). */
  get hungCount(): number {
    return this.#hung.size;
  }

  /**
   * Lets through the held request that comes first by client id and scope: requests sent at the same
   * moment come from different scope sets, so this order is the same in every run. `onDone` is
   * called once the answer is passed on, or the connection has ended.
   */
  releaseNext(onDone: (exchange: Exchange) => void): Exchange {
    this.#held.sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
    const held = this.#held.shift()!;
    const exchange: Exchange = { clientId: held.clientId, scope: held.scope, status: undefined, done: false };
    this.#passing.add(exchange);
    const headers = Object.fromEntries(Object.entries(held.req.headers).filter(([name]) => !hopHeaders.has(name)));
    const upstream = request(this.#target, { method: held.req.method, headers, agent: this.#agent });
    upstream.on('response', (answer) => {
      exchange.status = answer.statusCode;
      const chunks: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => chunks.push(chunk));
      answer.on('end', () => {
        const passed = Object.entries(answer.headers).filter(([name]) => !hopHeaders.has(name));
        held.res.writeHead(answer.statusCode ?? 502, Object.fromEntries(passed));
        held.res.end(Buffer.concat(chunks));
      });
    });
    // The token server dropped the connection (a reset): so does this hop.
    upstream.on('error', () => held.res.destroy());
    held.res.on('close', () => {
      upstream.destroy();
      exchange.done = true;
      this.#passing.delete(exchange);
      this.#hung.delete(exchange);
      onDone(exchange);
    });
    upstream.end(held.body);
    this.#responses.set(exchange, held.res);
    return exchange;
  }

  /** `exchange` will get no answer (the token server hangs it): it no longer counts as passing. */
  markHung(exchange: Exchange): void {
    const res = this.#responses.get(exchange);
    if (exchange.done || res === undefined || !this.#passing.delete(exchange)) return;
    this.#hung.set(exchange, res);
  }

  /**
   * Ends a hung exchange by dropping the connection, as the client's own `requestTimeoutMs` would
   * end it: that timer runs on real time, which a simulated run does not spend (see process-soak.ts).
   */
  cut(exchange: Exchange): void {
    this.#hung.get(exchange)?.destroy();
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    this.#agent.destroy();
    await closed;
  }

  #hold(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const form = new URLSearchParams(body.toString('utf8'));
      const clientId = form.get('client_id') ?? basicUser(req.headers.authorization) ?? '';
      const scope = form.get('scope') ?? '';
      this.#held.push({ order: `${clientId}\n${scope}`, clientId, scope, req, res, body });
    });
  }
}

/** The user name of a Basic `Authorization` header (RFC 6749 §2.3.1 form-encodes it). */
function basicUser(authorization: string | undefined): string | undefined {
  if (!authorization?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(authorization.slice('Basic '.length), 'base64').toString('utf8');
  return decodeURIComponent(decoded.slice(0, decoded.indexOf(':')).replace(/\+/g, ' '));
}
