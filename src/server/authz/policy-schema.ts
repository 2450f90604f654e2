// The A43 policy JSON checked field by field into plain, immutable specs: what the engine compiles.
// Stricter than grpc-go and C-core where they are lax or disagree (see each comment); every refusal
// is an AuthConfigError naming the place.
import { AuthConfigError } from '../../common/config-error.js';
import { describeType } from '../../common/describe.js';
import { readAuditOptions, type AuditOptions } from './audit-options.js';
import { readPattern, type Pattern } from './patterns.js';
import {
  field,
  inside,
  quote,
  readArray,
  readName,
  readNonEmptyArray,
  readObject,
  readString,
  refusal,
  type Place,
} from './policy-fields.js';

/** The largest policy text read: 1 MiB, far above any real policy, so that a wrong file fails fast. */
const maxPolicyBytes = 1024 * 1024;

/** One `request.headers` entry: the lower-cased key and its OR-ed value patterns. */
export interface HeaderSpec {
  readonly key: string;
  readonly values: readonly Pattern[];
}

/** One rule, checked. Empty lists mean "anything". */
export interface RuleSpec {
  readonly name: string;
  readonly principals: readonly Pattern[];
  readonly paths: readonly Pattern[];
  readonly headers: readonly HeaderSpec[];
}

/** The whole policy, checked. */
export interface PolicySpec {
  readonly name: string;
  readonly denyRules: readonly RuleSpec[];
  readonly allowRules: readonly RuleSpec[];
  readonly audit: AuditOptions;
}

/**
 * Header keys A43 refuses: every pseudo-header and `grpc-*` (by prefix), `host`, and the hop-by-hop
 * headers (the list grpc-go, C-core and grpc-java all use). Checked after lower-casing, as grpc-go
 * does; C-core and grpc-java compare `:` and `grpc-` case-sensitively and keep `Key-Foo` as written,
 * a rule that then never matches the lower-case wire key.
 */
const refusedHeaderKeys: ReadonlySet<string> = new Set([
  'host',
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Checks `policy`, the JSON text or its parsed object, into a {@link PolicySpec}.
 *
 * @param where - names the policy in messages.
 * @throws AuthConfigError naming the place and the problem.
 */
export function readPolicy(policy: unknown, where: string): PolicySpec {
  const top: Place = { where, path: '' };
  const fields = readObject(
    typeof policy === 'string' ? parseText(policy, where) : checkedObject(policy, where),
    ['name', 'deny_rules', 'allow_rules', 'audit_logging_options'],
    top,
  );
  return {
    name: readName(field(fields, 'name'), inside(top, 'name')),
    denyRules: readRules(field(fields, 'deny_rules'), inside(top, 'deny_rules'), false),
    allowRules: readRules(field(fields, 'allow_rules'), inside(top, 'allow_rules'), true),
    audit: readAuditOptions(field(fields, 'audit_logging_options'), inside(top, 'audit_logging_options')),
  };
}

function checkedObject(policy: unknown, where: string): unknown {
  if (typeof policy === 'object' && policy !== null && !Array.isArray(policy)) return policy;
  throw new AuthConfigError(
    `${where}: the policy must be its JSON text or its parsed object; got ${describeType(policy)}`,
  );
}

function parseText(text: string, where: string): unknown {
  // length counts UTF-16 units, never more than the UTF-8 bytes: a huge text is refused before it is measured
  if (text.length > maxPolicyBytes || Buffer.byteLength(text) > maxPolicyBytes)
    throw new AuthConfigError(`${where}: the policy text is larger than ${maxPolicyBytes} bytes (1 MiB)`);
  // what an editor may put at the start of a saved file; JSON.parse, grpc-go and C-core refuse it too
  if (text.startsWith('\uFEFF'))
    throw new AuthConfigError(
      `${where}: the policy is not valid JSON: it starts with a byte order mark (U+FEFF); save it without one`,
    );
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    // V8's message may quote the text: only the position is passed on
    const position = /at position (\d+)/.exec(String((error as Error).message))?.[1];
    throw new AuthConfigError(
      `${where}: the policy is not valid JSON${position === undefined ? '' : ` (${lineAndColumn(text, Number(position))})`}`,
    );
  }
}

function lineAndColumn(text: string, position: number): string {
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  return `line ${line}, column ${position - before.lastIndexOf('\n')}`;
}

/**
 * Every implementation keys rules by name in a map, so a second rule of the same name silently
 * replaces the first and the policy loses a rule nobody sees go: refused here instead. Names are
 * compared within one list only, as the others key deny and allow rules apart.
 */
function readRules(value: unknown, place: Place, required: boolean): RuleSpec[] {
  const rules = required
    ? readNonEmptyArray(value, place, 'rules', readRule)
    : readArray(value, place, 'rules', readRule);
  const seen = new Map<string, number>();
  rules.forEach((rule, index) => {
    const first = seen.get(rule.name);
    if (first !== undefined)
      throw refusal(
        inside(inside(place, index), 'name'),
        `${quote(rule.name)} is also the name of ${place.path}[${first}]; rule names must be unique`,
      );
    seen.set(rule.name, index);
  });
  return rules;
}

function readRule(value: unknown, place: Place): RuleSpec {
  const rule = readObject(value, ['name', 'source', 'request'], place);
  const name = readName(field(rule, 'name'), inside(place, 'name'));
  let principals: Pattern[] = [];
  const sourceValue = field(rule, 'source');
  if (sourceValue !== undefined) {
    const sourcePlace = inside(place, 'source');
    const source = readObject(sourceValue, ['principals'], sourcePlace);
    principals = readPatterns(field(source, 'principals'), inside(sourcePlace, 'principals'));
  }
  let paths: Pattern[] = [];
  let headers: HeaderSpec[] = [];
  const requestValue = field(rule, 'request');
  if (requestValue !== undefined) {
    const requestPlace = inside(place, 'request');
    const request = readObject(requestValue, ['paths', 'headers'], requestPlace);
    paths = readPatterns(field(request, 'paths'), inside(requestPlace, 'paths'));
    headers = readArray(field(request, 'headers'), inside(requestPlace, 'headers'), 'headers', readHeader);
  }
  return { name, principals, paths, headers };
}

function readHeader(value: unknown, place: Place): HeaderSpec {
  const header = readObject(value, ['key', 'values'], place);
  const keyPlace = inside(place, 'key');
  const key = readName(field(header, 'key'), keyPlace).toLowerCase();
  if (key.startsWith(':') || key.startsWith('grpc-') || refusedHeaderKeys.has(key))
    throw refusal(
      keyPlace,
      `${quote(key)} cannot be matched: A43 refuses pseudo-headers (":…"), "grpc-…", "host" and hop-by-hop headers`,
    );
  const values = readNonEmptyArray(field(header, 'values'), inside(place, 'values'), 'patterns', readOnePattern);
  return { key, values };
}

function readPatterns(value: unknown, place: Place): Pattern[] {
  return readArray(value, place, 'patterns', readOnePattern);
}

function readOnePattern(value: unknown, place: Place): Pattern {
  return readPattern(readString(value, place), place.where, place.path);
}
