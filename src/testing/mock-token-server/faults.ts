// Fault injection: the answers a test queues for the next requests to an endpoint instead of normal ones.
import type { ServerResponse } from 'node:http';
import { AuthConfigError } from '../../common/config-error.js';
import { checkBoolean, checkNonEmptyString, checkOptionNames, closestName } from '../../common/option-checks.js';
import { parseBasic } from './client-auth.js';
import type { TokenShape } from './token-issuer.js';
import { httpDate, sendJson, withHeaders, type Clock } from './http.js';
import { checkListOf, namesOf } from './options.js';
import type { MockEchoPart, MockEchoPlace, MockFaultEndpoint, TokenServerFault } from './types.js';

type Fault<T extends TokenServerFault['type']> = Extract<TokenServerFault, { type: T }>;

/** The fields of each fault type, by type in the order the docs list them. */
const faultFields: { readonly [T in TokenServerFault['type']]: readonly string[] } = {
  error: namesOf<Fault<'error'>>({
    type: true,
    status: true,
    error: true,
    errorDescription: true,
    retryAfter: true,
    wwwAuthenticate: true,
  }),
  delay: namesOf<Fault<'delay'>>({ type: true, ms: true }),
  hang: namesOf<Fault<'hang'>>({ type: true }),
  'hang-after-headers': namesOf<Fault<'hang-after-headers'>>({ type: true }),
  reset: namesOf<Fault<'reset'>>({ type: true }),
  'reset-mid-body': namesOf<Fault<'reset-mid-body'>>({ type: true }),
  body: namesOf<Fault<'body'>>({ type: true, status: true, contentType: true, body: true, headers: true }),
  html: namesOf<Fault<'html'>>({ type: true, status: true }),
  token: namesOf<Fault<'token'>>({
    type: true,
    jwtLifetimeSec: true,
    expiresInSec: true,
    omitExpiresIn: true,
    headers: true,
    issuedTokenType: true,
  }),
  echo: namesOf<Fault<'echo'>>({ type: true, parts: true, into: true, status: true }),
};
const faultTypes = Object.keys(faultFields);
const echoParts: readonly MockEchoPart[] = ['authorization', 'body', 'secret', 'assertion'];
const echoPlaces: readonly MockEchoPlace[] = ['error', 'error_description', 'www-authenticate'];
/** The start of each endpoint's normal answer, which a `reset-mid-body` fault sends before dropping the connection. */
const answerStarts: Readonly<Record<MockFaultEndpoint, string>> = {
  token: '{"access_token":"eyJ',
  introspection: '{"active":true,"scope":"',
  revocation: '{"',
};

/** What a request carried, for an `echo` fault to send back. */
export interface SentRequest {
  readonly authorization: string | undefined;
  /** The body as sent, still form-encoded. */
  readonly text: string;
  readonly form: URLSearchParams;
}

/** The faults queued for the next requests to one endpoint, oldest first, and the answers they make. */
export class FaultQueue {
  readonly #queue: TokenServerFault[] = [];
  /** Pending `delay` faults: {@link releaseDelays} resolves them so no handler is left waiting. */
  readonly #delays = new Map<NodeJS.Timeout, () => void>();
  readonly #clock: Clock;
  readonly #endpoint: MockFaultEndpoint;

  constructor(clock: Clock, endpoint: MockFaultEndpoint) {
    this.#clock = clock;
    this.#endpoint = endpoint;
  }

  /** Queues `fault` for the next `count` requests, after those already queued. */
  push(count: number, fault: TokenServerFault): void {
    if (!Number.isInteger(count) || count < 0) throw new AuthConfigError('failNext: count must be a whole number >= 0');
    checkFault(fault);
    if (fault.type === 'token' && this.#endpoint !== 'token')
      throw new AuthConfigError(
        `failNext: a "token" fault applies to the token endpoint only, not to "${this.#endpoint}"`,
      );
    for (let i = 0; i < count; i++) this.#queue.push(fault);
  }

  /** The fault for the request that just arrived, if one is queued. */
  take(): TokenServerFault | undefined {
    return this.#queue.shift();
  }

  /** Drops every queued fault. */
  clear(): void {
    this.#queue.length = 0;
  }

  /**
   * Answers `res` as `fault` says and resolves with `'answered'`, or, for a fault that changes only how
   * the normal answer comes (`delay`, `token`), resolves with `'normal'` when that answer should go.
   */
  async apply(res: ServerResponse, fault: TokenServerFault, sent: SentRequest): Promise<'answered' | 'normal'> {
    const date = httpDate(this.#clock);
    switch (fault.type) {
      case 'delay':
        await this.#delay(fault.ms);
        return res.destroyed ? 'answered' : 'normal';
      case 'token':
        return 'normal';
      case 'error': {
        const headers: Record<string, string> = {};
        if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
        if (fault.wwwAuthenticate ?? fault.status === 401) {
          headers['www-authenticate'] = `Basic realm="mock"${fault.error ? `, error="${fault.error}"` : ''}`;
        }
        if (fault.error === undefined) {
          res.writeHead(fault.status, { ...headers, 'content-type': 'text/plain', date });
          res.end(`HTTP ${fault.status}`);
        } else {
          sendJson(
            res,
            this.#clock,
            fault.status,
            { error: fault.error, error_description: fault.errorDescription || undefined },
            headers,
          );
        }
        return 'answered';
      }
      case 'echo':
        sendEcho(res, this.#clock, fault, sent);
        return 'answered';
      case 'hang':
        return 'answered';
      case 'hang-after-headers':
        res.writeHead(200, { 'content-type': 'application/json', date });
        res.flushHeaders();
        return 'answered';
      case 'reset':
        res.socket?.destroy();
        return 'answered';
      case 'reset-mid-body':
        // The promised length makes the cut visible to the client as an incomplete body.
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '200', date });
        res.write(answerStarts[this.#endpoint], () => res.socket?.destroy());
        return 'answered';
      case 'body':
        res.writeHead(
          fault.status ?? 200,
          withHeaders({ 'content-type': fault.contentType ?? 'application/json', date }, fault.headers),
        );
        res.end(fault.body);
        return 'answered';
      case 'html':
        res.writeHead(fault.status ?? 502, { 'content-type': 'text/html; charset=utf-8', date });
        res.end(
          '<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>',
        );
        return 'answered';
    }
  }

  /** Ends every pending `delay` at once, for `close()`. */
  releaseDelays(): void {
    for (const [timer, release] of this.#delays) {
      clearTimeout(timer);
      release();
    }
    this.#delays.clear();
  }

  #delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#delays.delete(timer);
        resolve();
      }, ms);
      timer.unref();
      this.#delays.set(timer, resolve);
    });
  }
}

/**
 * The token answer's shape and extra headers: the server's settings, changed by a `token` fault.
 * An explicit `expiresInSec` puts `expires_in` in even when the server omits it.
 */
export function tokenAnswerOf(
  fault: TokenServerFault | undefined,
  server: { tokenLifetimeSec: number; omitExpiresIn: boolean },
): { shape: TokenShape; headers: Readonly<Record<string, string>> | undefined } {
  const change = fault?.type === 'token' ? fault : undefined;
  const omitExpiresIn = change?.omitExpiresIn ?? (change?.expiresInSec === undefined && server.omitExpiresIn);
  return {
    shape: {
      jwtLifetimeSec: change?.jwtLifetimeSec ?? server.tokenLifetimeSec,
      expiresInSec: omitExpiresIn ? undefined : (change?.expiresInSec ?? server.tokenLifetimeSec),
      issuedTokenType: change?.issuedTokenType,
    },
    headers: change?.headers,
  };
}

function sendEcho(res: ServerResponse, clock: Clock, fault: Fault<'echo'>, sent: SentRequest): void {
  const basic = parseBasic(sent.authorization);
  const found: Record<MockEchoPart, string | null | undefined> = {
    authorization: sent.authorization,
    body: sent.text,
    secret: [typeof basic === 'object' ? basic.secret : undefined, sent.form.get('client_secret')]
      .filter(Boolean)
      .join(' '),
    assertion: sent.form.get('client_assertion') ?? sent.form.get('assertion'),
  };
  const echoed = (fault.parts ?? echoParts)
    .map((part) => found[part])
    .filter(Boolean)
    .join(' ');
  const into = fault.into ?? echoPlaces;
  const status = fault.status ?? 401;
  // RFC 7230 §3.2.6: inside a quoted-string, a quote or backslash is escaped with a backslash.
  const quoted = `"${echoed.replace(/["\\]/g, '\\$&')}"`;
  const headers: Record<string, string> = into.includes('www-authenticate')
    ? { 'www-authenticate': `Basic realm="mock", error=${quoted}, error_description=${quoted}` }
    : {};
  const body = {
    error: into.includes('error') ? echoed : status === 401 ? 'invalid_client' : 'invalid_request',
    error_description: into.includes('error_description') ? echoed : undefined,
  };
  sendJson(res, clock, status, body, headers);
}

/** Throws an AuthConfigError for a fault the mock would not know how to answer, before it is queued. */
function checkFault(fault: TokenServerFault): void {
  const type: unknown = typeof fault === 'object' && fault !== null ? fault.type : undefined;
  if (typeof type !== 'string') throw new AuthConfigError('failNext: the fault must be an object with a type');
  if (!faultTypes.includes(type)) {
    const suggestion = closestName(type, faultTypes);
    throw new AuthConfigError(
      `unknown fault type "${type}"${suggestion === undefined ? '' : `; did you mean "${suggestion}"?`} The types are ${faultTypes.join(', ')}`,
    );
  }
  const where = `"${fault.type}" fault option`;
  checkOptionNames(fault, faultFields[fault.type], where);
  const status = 'status' in fault ? fault.status : undefined;
  if (
    (status !== undefined || fault.type === 'error') &&
    !(Number.isInteger(status) && status! >= 100 && status! <= 599)
  ) {
    throw new AuthConfigError(`${where} status must be a whole number from 100 to 599`);
  }
  switch (fault.type) {
    case 'error':
      checkBoolean(fault.wwwAuthenticate, `${where} wwwAuthenticate`);
      return;
    case 'delay':
      if (!(typeof fault.ms === 'number' && fault.ms >= 0 && Number.isFinite(fault.ms)))
        throw new AuthConfigError(`${where} ms must be a number of milliseconds >= 0`);
      return;
    case 'body':
      if (typeof fault.body !== 'string' && !Buffer.isBuffer(fault.body))
        throw new AuthConfigError(`${where} body must be a string or a Buffer`);
      return checkHeaders(fault.headers, where);
    case 'token':
      checkBoolean(fault.omitExpiresIn, `${where} omitExpiresIn`);
      for (const name of ['jwtLifetimeSec', 'expiresInSec'] as const) {
        if (fault[name] !== undefined && !Number.isFinite(fault[name]))
          throw new AuthConfigError(`${where} ${name} must be a number of seconds`);
      }
      if (fault.issuedTokenType !== undefined) checkNonEmptyString(fault.issuedTokenType, `${where} issuedTokenType`);
      if (fault.expiresInSec !== undefined && fault.omitExpiresIn !== undefined)
        throw new AuthConfigError(`${where}s expiresInSec and omitExpiresIn exclude each other`);
      return checkHeaders(fault.headers, where);
    case 'echo':
      checkListOf(fault.parts, echoParts, `${where} parts`, 'part');
      checkListOf(fault.into, echoPlaces, `${where} into`, 'place');
      return;
  }
}

function checkHeaders(headers: unknown, where: string): void {
  if (headers === undefined) return;
  if (
    typeof headers !== 'object' ||
    headers === null ||
    Object.values(headers).some((value) => typeof value !== 'string')
  ) {
    throw new AuthConfigError(`${where} headers must be an object of strings`);
  }
}
