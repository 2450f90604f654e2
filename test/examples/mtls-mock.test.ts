import { describeSavedExample } from '../helpers/saved-example.js';

describeSavedExample({
  title: 'examples/mtls-mock (docs/testing.md, "Mutual TLS clients (RFC 8705)")',
  example: 'examples/mtls-mock/token-endpoint.test.ts',
  doc: 'docs/testing.md',
  caption: 'Save this as `token-endpoint.test.ts`:',
  tests: 2,
});
