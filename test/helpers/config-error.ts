import assert from 'node:assert/strict';
import { AuthConfigError } from '../../src/index.js';

/**
 * A validator for `assert.throws` and `assert.rejects`: an {@link AuthConfigError} (a `TypeError`,
 * code `invalid_option`) whose message is `message` (a string: exactly; a RegExp: matching).
 */
export function invalidOption(message: RegExp | string): (err: unknown) => true {
  return (err) => {
    assert.ok(err instanceof AuthConfigError, `not an AuthConfigError: ${String(err)}`);
    assert.ok(err instanceof TypeError);
    assert.equal(err.name, 'AuthConfigError');
    assert.equal(err.code, 'invalid_option');
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  };
}
