// A59's `audit_logging_options` of an A43 policy, checked: the condition and the loggers.
import { checkBoolean } from '../../common/option-checks.js';
import type { AuditCondition, AuditLoggerEntry } from './authorization-policy.js';
import {
  field,
  given,
  inside,
  quote,
  readAnyObject,
  readArray,
  readName,
  readObject,
  refusal,
  type Place,
} from './policy-fields.js';

/** The checked `audit_logging_options`. */
export interface AuditOptions {
  readonly condition: AuditCondition;
  /** The loggers this package has; an unknown one marked `is_optional` is left out. */
  readonly loggers: readonly AuditLoggerEntry[];
}

const conditions: readonly AuditCondition[] = ['NONE', 'ON_DENY', 'ON_ALLOW', 'ON_DENY_AND_ALLOW'];

/** The loggers this package builds; an application's own logger is the interceptor's `onAudit` hook. */
const knownLoggers: readonly string[] = ['stdout_logger'];

const noAudit: AuditOptions = Object.freeze({ condition: 'NONE', loggers: Object.freeze([]) });

/**
 * Reads `audit_logging_options`. An absent condition is `NONE` (A59). grpc-go also takes `""` for
 * `NONE` and C-core refuses it: refused here, as any value but the four names. A59's schema block
 * spells the list `audit_logger`, its proto and every implementation `audit_loggers`: the latter.
 */
export function readAuditOptions(value: unknown, place: Place): AuditOptions {
  if (value === undefined) return noAudit;
  const options = readObject(value, ['audit_condition', 'audit_loggers'], place);
  const conditionPlace = inside(place, 'audit_condition');
  const conditionValue = field(options, 'audit_condition');
  const condition = conditionValue === undefined ? 'NONE' : conditionValue;
  if (!conditions.includes(condition as AuditCondition))
    throw refusal(
      conditionPlace,
      `must be one of ${conditions.join(', ')}; got ${typeof condition === 'string' ? quote(condition) : given(condition)}`,
    );
  const loggers = readArray(field(options, 'audit_loggers'), inside(place, 'audit_loggers'), 'loggers', readLogger);
  return Object.freeze({
    condition: condition as AuditCondition,
    loggers: Object.freeze(loggers.filter((logger): logger is AuditLoggerEntry => logger !== undefined)),
  });
}

/**
 * One logger: `name` required, `config` an object (default `{}`), `is_optional` a boolean (default
 * false). A name this package does not know is refused unless optional, then left out (A59).
 */
function readLogger(value: unknown, place: Place): AuditLoggerEntry | undefined {
  const logger = readObject(value, ['name', 'config', 'is_optional'], place);
  const name = readName(field(logger, 'name'), inside(place, 'name'));
  const configValue = field(logger, 'config');
  const config = configValue === undefined ? {} : jsonCopy(readAnyObject(configValue, inside(place, 'config')), place);
  const isOptional =
    checkBoolean(field(logger, 'is_optional'), `${place.where}: ${inside(place, 'is_optional').path}`) ?? false;
  if (!knownLoggers.includes(name)) {
    if (isOptional) return undefined;
    throw refusal(
      inside(place, 'name'),
      `${quote(name)} is not a logger this package has (it has "stdout_logger"); set "is_optional": true to skip it`,
    );
  }
  return Object.freeze({ name, config, isOptional });
}

/**
 * A copy of a logger's `config` that nothing outside can change. The stdout logger takes no
 * settings, so the config is only kept; it is JSON in a file, so a JSON copy loses nothing there.
 */
function jsonCopy(config: Readonly<Record<string, unknown>>, place: Place): Readonly<Record<string, unknown>> {
  try {
    return Object.freeze(JSON.parse(JSON.stringify(config)) as Record<string, unknown>);
  } catch {
    throw refusal(inside(place, 'config'), 'must be a JSON object (no cycle or bigint)');
  }
}
