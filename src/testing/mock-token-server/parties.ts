// Who may get tokens from a mock token server (clients, service accounts, trusted issuers) and who
// signs them: made once per server.
import { AssertionVerifier } from './assertions.js';
import { ClientRegistry } from './client-auth.js';
import { ServiceAccountRegistry, type GrantParties } from './grants.js';
import { SubjectTokenIssuers } from './token-exchange.js';
import { TokenIssuer, type SigningKey } from './token-issuer.js';
import type { MockTokenServerOptions } from './types.js';

/** Who may get tokens and who signs them, for a server at `issuer` whose assertions name one of `audiences`. */
export function partiesOf(
  audiences: (string | undefined)[],
  key: SigningKey,
  issuer: string,
  options: MockTokenServerOptions,
  clock: NonNullable<MockTokenServerOptions['clock']>,
): GrantParties {
  const assertions = new AssertionVerifier(
    audiences.filter((audience) => audience !== undefined),
    clock,
  );
  return {
    clients: new ClientRegistry(assertions, clock),
    accounts: new ServiceAccountRegistry(assertions),
    subjectIssuers: new SubjectTokenIssuers(assertions),
    issuer: new TokenIssuer({
      key,
      issuer,
      defaultAudience: options.audience,
      defaultFormat: options.accessTokenFormat,
      clock,
    }),
  };
}
