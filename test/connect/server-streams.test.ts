import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { Code, ConnectError } from '@connectrpc/connect';
import type { ConnectServerAuthOptions } from '../../src/connect/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { until } from '../helpers/token-fixtures.js';
import { echoClient, protocols, type Protocol } from './connect-fixture.js';
import type { EchoReply } from './echo-service.js';
import { holdOpen, startKeyServerScene } from './server-fixture.js';

/** A key server, a manual clock, the Connect auth server on that clock, and a client with no interceptor. */
async function scene(t: TestContext, protocol: Protocol, options: Partial<ConnectServerAuthOptions> = {}) {
  const clock = new ManualClock(Math.floor(Date.now() / 1000) * 1000);
  const { keys, server } = await startKeyServerScene(t, {
    methods: { '/test.v1.Echo/*': ['orders.read'] },
    clock,
    ...options,
  });
  const client = await echoClient(protocol, server.baseUrl, []);
  /** Call options with a token valid for `lifetimeSec` from now on the clock. */
  const bearer = async (lifetimeSec: number) => ({
    headers: {
      authorization: `Bearer ${await keys.sign({ exp: Math.floor(clock.now() / 1000) + lifetimeSec }, { nowMs: clock.now() })}`,
    },
  });
  /** Opens a bidi stream with a token valid for `lifetimeSec`; `say` sends a message and waits for its reply. */
  const openBidi = async (lifetimeSec: number) => {
    const requests = requestQueue();
    const responses = reader(client.bidi(requests.messages, await bearer(lifetimeSec)));
    const say = async (text: string): Promise<void> => {
      const before = responses.replies.length;
      requests.send(text);
      await until(() => responses.replies.length > before);
    };
    return { say, end: requests.end, responses };
  };
  return { keys, clock, server, client, bearer, openBidi };
}

/** Request messages the test sends one by one; the stream stays open until `end()`. */
function requestQueue() {
  const waiting: ((text: string | undefined) => void)[] = [];
  const queued: (string | undefined)[] = [];
  const push = (text: string | undefined): void => {
    const resolve = waiting.shift();
    if (resolve) resolve(text);
    else queued.push(text);
  };
  const take = (): Promise<string | undefined> =>
    queued.length > 0 ? Promise.resolve(queued.shift()) : new Promise((resolve) => waiting.push(resolve));
  // An async generator: Connect's client needs the request iterable's throw() and return().
  async function* messages(): AsyncGenerator<{ text: string }> {
    for (let text = await take(); text !== undefined; text = await take()) yield { text };
  }
  return { send: (text: string) => push(text), end: () => push(undefined), messages: messages() };
}

/** Reads `responses` in the background: the replies so far, and how the stream ended once it has. */
function reader(responses: AsyncIterable<EchoReply>) {
  const state = { replies: [] as string[], ended: undefined as { error: ConnectError | undefined } | undefined };
  void (async () => {
    try {
      for await (const reply of responses) state.replies.push(reply.text);
      state.ended = { error: undefined };
    } catch (error) {
      state.ended = { error: ConnectError.from(error) };
    }
  })();
  return state;
}

function assertExpired(error: ConnectError | undefined): void {
  assert.equal(error?.code, Code.Unauthenticated);
  assert.equal(error?.rawMessage, 'bearer token expired during the stream; open a new call with a fresh token');
  assert.equal(error?.metadata.get('grpc-oauth2-reason'), 'stream_token_expired');
}

for (const protocol of protocols) {
  describe(`streams and token expiry, ${protocol} protocol`, { timeout: 20_000 }, () => {
    it('ends a bidi stream Unauthenticated stream_token_expired at exp plus the 30 s tolerance', async (t) => {
      const { clock, server, openBidi } = await scene(t, protocol);
      const { say, responses } = await openBidi(60);
      await say('one');
      await clock.advance(89_000);
      await say('two');
      assert.deepEqual(responses.replies, ['orders-svc:one', 'orders-svc:two'], 'still open one second before');
      await clock.advance(1_000);
      await until(() => responses.ended !== undefined);
      assertExpired(responses.ended?.error);
      assert.equal(server.decisions.at(-1)?.reason, 'stream_token_expired');
      assert.equal(server.decisions.at(-1)?.subject, 'orders-svc', "the record names the stream's verified subject");
      await until(() => server.abortReasons.length === 1);
      assertExpired(server.abortReasons[0] as ConnectError);
    });

    it('ends a server stream its handler holds open, and aborts the handler’s signal', async (t) => {
      const { clock, client, server, bearer } = await scene(t, protocol);
      const responses = reader(client.serverStream({ text: holdOpen }, await bearer(60)));
      await until(() => responses.replies.length === 1);
      await clock.advance(90_000);
      await until(() => responses.ended !== undefined);
      assertExpired(responses.ended?.error);
      assert.deepEqual(responses.replies, ['orders-svc:hold-1'], 'nothing the handler yields after the expiry is sent');
      assertExpired(server.abortReasons[0] as ConnectError);
    });

    it('ends a client stream whose handler waits for more requests', async (t) => {
      const { clock, client, server, bearer } = await scene(t, protocol);
      const requests = requestQueue();
      const result = client.clientStream(requests.messages, await bearer(60)).then(
        () => undefined,
        (error: unknown) => ConnectError.from(error),
      );
      requests.send('a');
      await until(() => server.sightings.length === 1);
      await clock.advance(90_000);
      assertExpired(await result);
      await until(() => server.abortReasons.length === 1);
    });

    it('keeps the stream open past exp with endStreamsAtExpiry: false', async (t) => {
      const { clock, openBidi } = await scene(t, protocol, { endStreamsAtExpiry: false });
      const { say, end, responses } = await openBidi(60);
      await say('one');
      await clock.advance(3_600_000);
      await say('two');
      end();
      await until(() => responses.ended !== undefined);
      assert.equal(responses.ended?.error, undefined);
    });

    it('clears the expiry timer when a stream ends before its token, and sets none for unary calls', async (t) => {
      const { clock, client, server, bearer, openBidi } = await scene(t, protocol);
      const { say, end, responses } = await openBidi(60);
      await say('one');
      assert.equal(clock.pendingTimers, 1);
      end();
      await until(() => responses.ended !== undefined);
      assert.equal(responses.ended?.error, undefined);
      await until(() => clock.pendingTimers === 0);
      await client.unary({ text: 'x' }, await bearer(60));
      assert.equal(clock.pendingTimers, 0);
      await clock.advance(90_000);
      assert.equal(server.decisions.filter(({ reason }) => reason === 'stream_token_expired').length, 0);
    });
  });
}
