import { describeSavedExample } from '../helpers/saved-example.js';

describeSavedExample({
  title: 'examples/opaque-tokens (docs/testing.md, "Opaque tokens and introspection")',
  example: 'examples/opaque-tokens/introspection.test.ts',
  doc: 'docs/testing.md',
  caption: 'Save this as `introspection.test.ts`:',
  tests: 2,
});
