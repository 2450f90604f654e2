// A real RFC 7662 introspection endpoint on 127.0.0.1:0 for the introspection tests: it authenticates
// its client (client_secret_basic, client_secret_post or private_key_jwt), answers from a table of
// tokens (`active: false` for any other), records what it received and counts the requests. Its
// discovery document (RFC 8414) names it. Faults replace the answers while set.
import type { KeyObject } from 'node:crypto';
import type { TestContext } from 'node:test';
import { jwtVerify } from 'jose';
import { startRawTokenServer, type RawAnswer, type RawRequest } from '../helpers/raw-token-server.js';

/** One introspection request as the endpoint received it. */
export interface ReceivedIntrospection {
  /** How the client authenticated, as far as the request shows it. */
  readonly authMethod: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';
  readonly clientId: string | undefined;
  /** The secret sent (basic or post). */
  readonly secret: string | undefined;
  /** The client assertion sent (private_key_jwt). */
  readonly assertion: string | undefined;
  /** The `token` parameter. */
  readonly token: string | null;
  /** Whether the endpoint accepted the client. */
  readonly authenticated: boolean;
}

/** The client the endpoint accepts: by secret, or by the public key of its private_key_jwt key. */
export interface AcceptedClient {
  readonly clientId: string;
  readonly secret?: string;
  readonly publicKey?: KeyObject;
}

export interface IntrospectionEndpoint {
  /** The issuer, `http://127.0.0.1:<port>`. */
  readonly issuer: string;
  /** `${issuer}/introspect`. */
  readonly endpoint: string;
  /** Every introspection request, in order (discovery requests are not counted). */
  readonly received: ReceivedIntrospection[];
  /** The answer for each token; any other token is `{ active: false }`. */
  readonly answers: Map<string, Record<string, unknown>>;
  /** Who may introspect; replace it to rotate a secret. */
  client: AcceptedClient;
  /** While set, every introspection request gets this instead (status, body, hang, reset), or what it makes of the request. */
  fault: RawAnswer | ((request: RawRequest) => RawAnswer) | undefined;
  /** While set, answers wait for it (the answer is decided when it resolves). */
  gate: Promise<void> | undefined;
  /** Whether the discovery document is served (else 404). Default true. */
  discoverable: boolean;
  /** The time client assertions are judged by, in ms since the epoch. Default `Date.now`. */
  now: () => number;
}

/** Starts the endpoint; it is closed by `t.after`. */
export async function startIntrospectionEndpoint(
  t: TestContext,
  client: AcceptedClient,
): Promise<IntrospectionEndpoint> {
  const raw = await startRawTokenServer(t, (request) => respond(request));
  const fixture: IntrospectionEndpoint = {
    issuer: raw.url,
    endpoint: `${raw.url}/introspect`,
    received: [],
    answers: new Map(),
    client,
    fault: undefined,
    gate: undefined,
    discoverable: true,
    now: Date.now,
  };
  const respond = async (request: RawRequest): Promise<RawAnswer> => {
    if (request.path === '/.well-known/oauth-authorization-server') {
      if (!fixture.discoverable) return { status: 404, body: 'not found' };
      return {
        body: {
          issuer: fixture.issuer,
          token_endpoint: `${fixture.issuer}/token`,
          introspection_endpoint: fixture.endpoint,
        },
      };
    }
    if (request.path !== '/introspect' || request.method !== 'POST') return { status: 404, body: 'not found' };
    const received = await receive(request, fixture);
    fixture.received.push(received);
    await fixture.gate;
    if (typeof fixture.fault === 'function') return fixture.fault(request);
    if (fixture.fault !== undefined) return fixture.fault;
    if (!received.authenticated)
      return {
        status: 401,
        headers: { 'www-authenticate': 'Basic realm="introspect"' },
        body: { error: 'invalid_client' },
      };
    if (received.token === null) return { status: 400, body: { error: 'invalid_request' } };
    return { body: fixture.answers.get(received.token) ?? { active: false } };
  };
  return fixture;
}

/** What a request carries, and whether it authenticates the accepted client. */
async function receive(request: RawRequest, fixture: IntrospectionEndpoint): Promise<ReceivedIntrospection> {
  const body = new URLSearchParams(request.body);
  const token = body.get('token');
  const accepted = fixture.client;
  const basic = /^basic\s+(\S+)$/i.exec(request.headers.authorization ?? '');
  if (basic) {
    const [id = '', secret = ''] = Buffer.from(basic[1]!, 'base64').toString().split(':').map(formDecode);
    const authenticated = id === accepted.clientId && secret === accepted.secret;
    return { authMethod: 'client_secret_basic', clientId: id, secret, assertion: undefined, token, authenticated };
  }
  const clientId = body.get('client_id') ?? undefined;
  const assertion = body.get('client_assertion') ?? undefined;
  if (assertion !== undefined) {
    const authenticated =
      accepted.publicKey !== undefined && (await verifies(assertion, accepted, fixture.issuer, fixture.now()));
    return { authMethod: 'private_key_jwt', clientId, secret: undefined, assertion, token, authenticated };
  }
  const secret = body.get('client_secret') ?? undefined;
  const authMethod = secret === undefined ? 'none' : 'client_secret_post';
  const authenticated = secret !== undefined && clientId === accepted.clientId && secret === accepted.secret;
  return { authMethod, clientId, secret, assertion, token, authenticated };
}

/** RFC 7523 §3: signed by the client's key, issued by and about the client, for this server. */
async function verifies(assertion: string, client: AcceptedClient, issuer: string, now: number): Promise<boolean> {
  try {
    await jwtVerify(assertion, client.publicKey!, {
      issuer: client.clientId,
      subject: client.clientId,
      audience: issuer,
      currentDate: new Date(now),
    });
    return true;
  } catch {
    return false;
  }
}

/** RFC 6749 §2.3.1: the Basic user name and password are each form-urlencoded. */
function formDecode(part: string): string {
  return decodeURIComponent(part.replace(/\+/g, ' '));
}
