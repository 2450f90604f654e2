import {
  ClientSecretBasic,
  ClientSecretPost,
  None,
  PrivateKeyJwt,
  TlsClientAuth,
  type ClientAuth,
  type ServerMetadata,
} from 'openid-client';
import { CachedSingleFlight } from '../../common/cached-single-flight.js';
import { RecentSecrets, secretForms } from '../../common/redact.js';
import type { ResolvedClient } from './client-credential.js';
import type { ExternalToken } from './external-token.js';
import { importSigningKey } from './private-key.js';

/** Who the client is and how it proves it: the part of a {@link ResolvedClient} that authentication needs. */
export type AuthenticatingClient = Pick<ResolvedClient, 'clientId' | 'clientAuthMethod' | 'credential'>;

const clientAssertionType = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/**
 * A client's authentication to the authorization server's endpoints (the token endpoint, the
 * introspection endpoint) as openid-client takes it: built from the credential on first use (a secret
 * file read, a private key imported) and kept until {@link ClientAuthentication.reload} finds the file
 * rotated. It remembers every form of the secret and the last client assertions it sent, so that a
 * server echoing them back can be scrubbed.
 *
 * @internal
 * @example
 * ```ts
 * const auth = new ClientAuthentication({ clientId, clientAuthMethod: 'client_secret_basic', credential });
 * const config = new Configuration(metadata, clientId, {}, await auth.get());
 * ```
 */
export class ClientAuthentication {
  readonly #client: AuthenticatingClient;
  /** Forgotten when a rotated credential file is read. */
  readonly #auth = new CachedSingleFlight<ClientAuth>();
  /** Every encoding of the client secret in use; none for a private key. */
  #secretForms: readonly string[] = [];
  readonly #assertions = new RecentSecrets();

  constructor(client: AuthenticatingClient) {
    this.#client = client;
    if (client.credential.kind === 'secret') this.#secretForms = secretForms(client.credential.value, client.clientId);
  }

  /** Built on first use and kept until the credential rotates; a failed build is tried again next time. */
  get(): Promise<ClientAuth> {
    return this.#auth.get(() => this.#build());
  }

  /**
   * Reads the credential's file again (a secret or key file, a client assertion file); resolves
   * `true` when it changed, and the next {@link ClientAuthentication.get} then builds from it.
   */
  async reload(): Promise<boolean> {
    const { credential } = this.#client;
    if (credential.kind === 'assertion') return credential.assertion.reload();
    if (credential.kind !== 'secret-file' && credential.kind !== 'key-file') return false;
    const changed = await credential.file.reload();
    if (changed) this.#auth.forget();
    return changed;
  }

  /** The secret in every encoding it travels in, and the client assertions sent lately. */
  secretValues(): string[] {
    return [...this.#secretForms, ...this.#assertions.forms()];
  }

  async #build(): Promise<ClientAuth> {
    const { credential, clientAuthMethod, clientId } = this.#client;
    if (credential.kind === 'none') return None();
    // Both RFC 8705 methods send only client_id; the certificate goes with the connection (MtlsRoute).
    // openid-client has no SelfSignedTlsClientAuth: the two differ only in how the server checks it.
    if (credential.kind === 'tls-certificate') return TlsClientAuth();
    if (credential.kind === 'assertion') return this.#sendAssertion(credential.assertion);
    if (credential.kind === 'secret' || credential.kind === 'secret-file') {
      const secret =
        credential.kind === 'secret' ? credential.value : (credential.parse ?? String)(await credential.file.read());
      this.#secretForms = secretForms(secret, clientId);
      return clientAuthMethod === 'client_secret_post' ? ClientSecretPost(secret) : ClientSecretBasic(secret);
    }
    const input = credential.kind === 'key' ? credential.value : credential.parse(await credential.file.read());
    const key = await importSigningKey(
      input,
      credential.kind === 'key' ? 'privateKey' : 'privateKeyFile',
      undefined,
      credential.kid,
    );
    // openid-client signs a fresh client_assertion into the body of each request; note it, so that a
    // server echoing it back is scrubbed like one echoing a secret. ClientAuth is typed as returning
    // void, but PrivateKeyJwt's is async and openid-client awaits it, as it awaits ours.
    const signAssertion = PrivateKeyJwt({ key: key.key, kid: key.kid }) as (
      ...args: Parameters<ClientAuth>
    ) => Promise<void>;
    const rememberingAssertions = async (...args: Parameters<ClientAuth>): Promise<void> => {
      await signAssertion(...args);
      this.#assertions.remember(args[2].get('client_assertion'));
    };
    // eslint-disable-next-line @typescript-eslint/no-misused-promises -- awaited by openid-client, see above
    return rememberingAssertions;
  }

  /**
   * RFC 7523 §2.2 with a JWT signed elsewhere (the platform's): openid-client awaits this hook for
   * every request, so each request takes the assertion as the file or function gives it then.
   */
  #sendAssertion(assertion: ExternalToken): ClientAuth {
    const { clientId } = this.#client;
    const send = async (_as: ServerMetadata, _client: unknown, body: URLSearchParams): Promise<void> => {
      const jwt = await assertion.current();
      this.#assertions.remember(jwt);
      body.set('client_id', clientId);
      body.set('client_assertion_type', clientAssertionType);
      body.set('client_assertion', jwt);
    };
    // eslint-disable-next-line @typescript-eslint/no-misused-promises -- awaited by openid-client, as PrivateKeyJwt's is
    return send;
  }
}
