import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthorizationPolicy } from '../../src/server/authz/authorization-policy.js';
import { invalidOption } from '../helpers/config-error.js';
import { call } from './authz-request.js';

const allowAll = [{ name: 'all' }];

/** A valid policy with `change` applied to a copy of it. */
function policyWith(change: Record<string, unknown>): Record<string, unknown> {
  return { name: 'authz', allow_rules: allowAll, ...change };
}

function refuses(policy: unknown, message: string | RegExp): void {
  assert.throws(() => AuthorizationPolicy.parse(policy, 'authz'), invalidOption(message));
}

const star = '"*", "prefix*", "*suffix" or an exact value';

describe('A43 policy load', () => {
  it('reads the JSON text or the parsed object, and nothing else', () => {
    const text = '{ "name": "authz", "allow_rules": [{ "name": "all" }] }';
    assert.equal(AuthorizationPolicy.parse(text, 'authz').name, 'authz');
    assert.equal(AuthorizationPolicy.parse(JSON.parse(text), 'authz').name, 'authz');
    refuses(42, 'authz: the policy must be its JSON text or its parsed object; got number');
    refuses(null, 'authz: the policy must be its JSON text or its parsed object; got null');
    refuses('[]', 'authz: the policy must be an object; got an empty array');
  });

  it('says a text is not JSON with its line and column, never quoting it', () => {
    refuses('{\n  "name": }', 'authz: the policy is not valid JSON');
    refuses('{\n  "name"', 'authz: the policy is not valid JSON (line 2, column 9)');
    refuses('{"name": "authz"} trailing', 'authz: the policy is not valid JSON (line 1, column 19)');
    assert.throws(
      () => AuthorizationPolicy.parse('{"name": secret-in-the-file}', 'authz'),
      (err: Error) => !err.message.includes('secret'),
    );
  });

  it('says a text that starts with a byte order mark does', () => {
    refuses(
      '\uFEFF{ "name": "authz", "allow_rules": [{ "name": "all" }] }',
      'authz: the policy is not valid JSON: it starts with a byte order mark (U+FEFF); save it without one',
    );
  });

  it('refuses a text over 1 MiB, counted in UTF-8 bytes', () => {
    const message = 'authz: the policy text is larger than 1048576 bytes (1 MiB)';
    refuses(' '.repeat(1024 * 1024 + 1), message);
    refuses(`"${'é'.repeat(600_000)}"`, message);
    const padded = JSON.stringify(policyWith({})) + ' '.repeat(1024 * 1024 - 100);
    assert.equal(AuthorizationPolicy.parse(padded, 'authz').name, 'authz');
  });

  it('requires a non-empty string name', () => {
    refuses({ allow_rules: allowAll }, 'authz: name is required: a non-empty string');
    refuses(policyWith({ name: '' }), 'authz: name must be a non-empty string; got an empty string');
    refuses(policyWith({ name: 7 }), 'authz: name must be a non-empty string; got number');
  });

  it('requires a non-empty allow_rules array and takes deny_rules absent or empty', () => {
    refuses({ name: 'authz' }, 'authz: allow_rules is required: a non-empty array of rules');
    refuses(
      policyWith({ allow_rules: [] }),
      'authz: allow_rules must be a non-empty array of rules; got an empty array',
    );
    refuses(policyWith({ allow_rules: {} }), 'authz: allow_rules must be a non-empty array of rules; got object');
    refuses(policyWith({ deny_rules: {} }), 'authz: deny_rules must be an array of rules; got object');
    refuses(policyWith({ deny_rules: [7] }), 'authz: deny_rules[0] must be an object; got number');
    const emptyDeny = AuthorizationPolicy.parse(policyWith({ deny_rules: [] }), 'authz');
    assert.equal(emptyDeny.evaluate(call('/pkg.Svc/M')).allowed, true);
  });

  it('refuses an unknown field at every level by its exact, case-sensitive name', () => {
    refuses(policyWith({ Name: 'x' }), 'authz: unknown field "Name" in the policy; did you mean "name"?');
    refuses(
      JSON.parse('{"__proto__": {}, "name": "a", "allow_rules": [{"name": "all"}]}'),
      /unknown field "__proto__" in the policy/,
    );
    const rule = (extra: Record<string, unknown>) => policyWith({ allow_rules: [{ name: 'r', ...extra }] });
    refuses(rule({ sources: {} }), 'authz: unknown field "sources" in allow_rules[0]; did you mean "source"?');
    refuses(
      rule({ source: { principal: [] } }),
      'authz: unknown field "principal" in allow_rules[0].source; did you mean "principals"?',
    );
    refuses(
      rule({ request: { Paths: [] } }),
      'authz: unknown field "Paths" in allow_rules[0].request; did you mean "paths"?',
    );
    refuses(
      rule({ request: { headers: [{ key: 'k', values: ['v'], value: 'v' }] } }),
      'authz: unknown field "value" in allow_rules[0].request.headers[0]; did you mean "values"?',
    );
    refuses(
      policyWith({ audit_logging_options: { audit_logger: [] } }),
      'authz: unknown field "audit_logger" in audit_logging_options; did you mean "audit_loggers"?',
    );
    refuses(
      policyWith({ audit_logging_options: { audit_loggers: [{ name: 'stdout_logger', isOptional: true }] } }),
      'authz: unknown field "isOptional" in audit_logging_options.audit_loggers[0]; did you mean "is_optional"?',
    );
  });

  it('reads own fields only, never inherited ones', () => {
    const inherited = Object.create({ allow_rules: allowAll }) as Record<string, unknown>;
    inherited.name = 'authz';
    refuses(inherited, 'authz: allow_rules is required: a non-empty array of rules');
  });

  it('refuses a wrong type with the place and what was given', () => {
    const rule = (extra: Record<string, unknown>) => policyWith({ allow_rules: [{ name: 'r', ...extra }] });
    refuses(rule({ source: [] }), 'authz: allow_rules[0].source must be an object; got an empty array');
    refuses(
      rule({ source: { principals: 'x' } }),
      'authz: allow_rules[0].source.principals must be an array of patterns; got a string',
    );
    refuses(
      rule({ source: { principals: ['a', 1] } }),
      'authz: allow_rules[0].source.principals[1] must be a string; got number',
    );
    refuses(rule({ request: { paths: [null] } }), 'authz: allow_rules[0].request.paths[0] must be a string; got null');
    refuses(
      rule({ request: { headers: {} } }),
      'authz: allow_rules[0].request.headers must be an array of headers; got object',
    );
  });

  it('requires a non-empty rule name, unique within its list', () => {
    refuses(policyWith({ allow_rules: [{}] }), 'authz: allow_rules[0].name is required: a non-empty string');
    refuses(
      policyWith({ deny_rules: [{ name: '' }] }),
      'authz: deny_rules[0].name must be a non-empty string; got an empty string',
    );
    refuses(
      policyWith({ allow_rules: [{ name: 'a' }, { name: 'b' }, { name: 'a' }] }),
      'authz: allow_rules[2].name "a" is also the name of allow_rules[0]; rule names must be unique',
    );
    const sameInBoth = policyWith({
      deny_rules: [{ name: 'a', request: { paths: ['/x/Y'] } }],
      allow_rules: [{ name: 'a' }],
    });
    assert.deepEqual(AuthorizationPolicy.parse(sameInBoth, 'authz').evaluate(call('/x/Y')), {
      allowed: false,
      matchedRule: 'a',
    });
  });

  it('lower-cases a header key and refuses the keys A43 forbids', () => {
    const headers = (key: unknown) =>
      policyWith({
        allow_rules: [
          {
            name: 'r',
            request: {
              headers: [
                { key: 'ok', values: ['*'] },
                { key, values: ['v'] },
              ],
            },
          },
        ],
      });
    const forbidden = ':path :Authority grpc-timeout GRPC-Encoding host Host connection keep-alive proxy-authenticate';
    for (const key of [
      ...forbidden.split(' '),
      'proxy-authorization',
      'te',
      'trailer',
      'transfer-encoding',
      'Upgrade',
    ]) {
      refuses(
        headers(key),
        `authz: allow_rules[0].request.headers[1].key "${key.toLowerCase()}" cannot be matched: ` +
          'A43 refuses pseudo-headers (":…"), "grpc-…", "host" and hop-by-hop headers',
      );
    }
    refuses(headers(undefined), 'authz: allow_rules[0].request.headers[1].key is required: a non-empty string');
    refuses(
      headers(''),
      'authz: allow_rules[0].request.headers[1].key must be a non-empty string; got an empty string',
    );
    const mixed = AuthorizationPolicy.parse(headers('Key-Foo'), 'authz');
    assert.equal(mixed.evaluate(call('/x/Y', { ok: '1', 'key-foo': 'v' })).allowed, true);
  });

  it('requires a non-empty values array for each header', () => {
    const values = (value: unknown) =>
      policyWith({ allow_rules: [{ name: 'r', request: { headers: [{ key: 'k', values: value }] } }] });
    refuses(
      values(undefined),
      'authz: allow_rules[0].request.headers[0].values is required: a non-empty array of patterns',
    );
    refuses(
      values([]),
      'authz: allow_rules[0].request.headers[0].values must be a non-empty array of patterns; got an empty array',
    );
    refuses(
      values(['*a*']),
      `authz: allow_rules[0].request.headers[0].values[0] has "*" inside it; a pattern is ${star}`,
    );
  });

  it('refuses a "*" anywhere but as the whole pattern, its first or its last character', () => {
    for (const pattern of ['*abc*', '**', 'a*b', '*a*b', 'a**']) {
      const policy = policyWith({ allow_rules: [{ name: 'r', source: { principals: ['ok', pattern] } }] });
      refuses(policy, `authz: allow_rules[0].source.principals[1] has "*" inside it; a pattern is ${star}`);
    }
  });

  it('reads audit_logging_options as A59 does', () => {
    const audit = (options: unknown) =>
      AuthorizationPolicy.parse(policyWith({ audit_logging_options: options }), 'authz');
    assert.equal(AuthorizationPolicy.parse(policyWith({}), 'authz').auditCondition, 'NONE');
    assert.equal(audit({}).auditCondition, 'NONE');
    for (const condition of ['NONE', 'ON_DENY', 'ON_ALLOW', 'ON_DENY_AND_ALLOW'])
      assert.equal(audit({ audit_condition: condition }).auditCondition, condition);
    const conditions = 'NONE, ON_DENY, ON_ALLOW, ON_DENY_AND_ALLOW';
    refuses(
      policyWith({ audit_logging_options: { audit_condition: 'on_deny' } }),
      `authz: audit_logging_options.audit_condition must be one of ${conditions}; got "on_deny"`,
    );
    refuses(
      policyWith({ audit_logging_options: { audit_condition: '' } }),
      `authz: audit_logging_options.audit_condition must be one of ${conditions}; got ""`,
    );
    refuses(
      policyWith({ audit_logging_options: { audit_condition: null } }),
      `authz: audit_logging_options.audit_condition must be one of ${conditions}; got null`,
    );
    refuses(
      policyWith({ audit_logging_options: [] }),
      'authz: audit_logging_options must be an object; got an empty array',
    );
  });

  it('keeps stdout_logger, refuses an unknown logger unless optional, then leaves it out', () => {
    const loggers = (list: unknown) =>
      policyWith({ audit_logging_options: { audit_condition: 'ON_DENY', audit_loggers: list } });
    const parsed = AuthorizationPolicy.parse(
      loggers([
        { name: 'stdout_logger' },
        { name: 'custom', is_optional: true },
        { name: 'stdout_logger', config: { a: 1 }, is_optional: false },
      ]),
      'authz',
    );
    assert.deepEqual(parsed.auditLoggers, [
      { name: 'stdout_logger', config: {}, isOptional: false },
      { name: 'stdout_logger', config: { a: 1 }, isOptional: false },
    ]);
    refuses(
      loggers([{ name: 'custom' }]),
      'authz: audit_logging_options.audit_loggers[0].name "custom" is not a logger this package has (it has "stdout_logger"); set "is_optional": true to skip it',
    );
    refuses(loggers([{}]), 'authz: audit_logging_options.audit_loggers[0].name is required: a non-empty string');
    refuses(
      loggers([{ name: 'stdout_logger', config: 'x' }]),
      'authz: audit_logging_options.audit_loggers[0].config must be an object; got a string',
    );
    refuses(
      loggers([{ name: 'stdout_logger', config: null }]),
      'authz: audit_logging_options.audit_loggers[0].config must be an object; got null',
    );
    refuses(
      loggers([{ name: 'custom', is_optional: 'true' }]),
      'authz: audit_logging_options.audit_loggers[0].is_optional must be true or false, not a string',
    );
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    refuses(
      loggers([{ name: 'stdout_logger', config: cyclic }]),
      'authz: audit_logging_options.audit_loggers[0].config must be a JSON object (no cycle or bigint)',
    );
    refuses(loggers({}), 'authz: audit_logging_options.audit_loggers must be an array of loggers; got object');
  });

  it('keeps nothing of the object it was given: a later change to it changes nothing', () => {
    const policy = { name: 'authz', allow_rules: [{ name: 'r', request: { paths: ['/x/Y'] } }] };
    const parsed = AuthorizationPolicy.parse(policy, 'authz');
    policy.allow_rules[0]!.request.paths[0] = '/x/Z';
    policy.name = 'other';
    assert.equal(parsed.name, 'authz');
    assert.deepEqual(parsed.evaluate(call('/x/Y')), { allowed: true, matchedRule: 'r' });
    assert.ok(Object.isFrozen(parsed.auditLoggers));
    const config = { level: { of: 'detail' } };
    const logged = AuthorizationPolicy.parse(
      policyWith({ audit_logging_options: { audit_loggers: [{ name: 'stdout_logger', config }] } }),
      'authz',
    );
    config.level.of = 'changed';
    assert.deepEqual(logged.auditLoggers[0]?.config, { level: { of: 'detail' } });
  });
});
