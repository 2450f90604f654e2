import { describeSavedExample } from '../helpers/saved-example.js';

describeSavedExample({
  title: 'examples/dpop-mock (docs/testing.md, "DPoP clients (RFC 9449)")',
  example: 'examples/dpop-mock/dpop-client.test.ts',
  doc: 'docs/testing.md',
  caption: 'Save this as `dpop-client.test.ts`:',
  tests: 2,
});
