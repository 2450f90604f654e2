// An A43 policy file that reloads itself: read at construction (a bad first load is an error), then
// every refreshIntervalMs; changed bytes holding a valid policy are swapped in with one assignment,
// anything else keeps the last good policy and is reported once.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { debuglog } from 'node:util';
import type { Clock, TimerHandle } from '../../common/clock.js';
import { AuthConfigError } from '../../common/config-error.js';
import { describeThrown } from '../../common/describe.js';
import { AuthorizationPolicy } from './authorization-policy.js';
import type { PolicyReloadEvent } from './interceptor-options.js';

const debug = debuglog('grpc-oauth2');

/** Where the interceptor reads the policy in effect, once per call. */
export interface PolicySource {
  readonly current: AuthorizationPolicy;
  /** Stops any re-reading. */
  close(): void;
}

/** The settings of a {@link PolicyFileWatcher}. */
export interface PolicyFileSettings {
  readonly policyFile: string;
  readonly refreshIntervalMs: number;
  readonly clock: Clock;
  readonly onReload: ((event: PolicyReloadEvent) => void) | undefined;
  /** The factory's name, which starts every message. */
  readonly where: string;
}

/**
 * Re-reads a policy file on a timer (on `clock`, unref'd by the system clock: it never keeps the
 * process alive). Bytes equal to the last ones read are not parsed again, as in grpc-go and C-core;
 * bad bytes are remembered too, so one bad content is reported once, not once per re-read. A file
 * missing at one read is taken as a rename in progress and reported only if the next read misses it too.
 */
export class PolicyFileWatcher implements PolicySource {
  #current: AuthorizationPolicy;
  #lastBytes: Buffer;
  /** The read failure the last re-read met, reported if the next one meets it too. */
  #unreadableOnce: string | undefined;
  /** The read failure last reported, not reported again until a read succeeds. */
  #reportedUnreadable: string | undefined;
  /** The pending re-read; `undefined` once closed. */
  #timer: TimerHandle | undefined;

  /** @throws AuthConfigError when the file cannot be read or holds no valid policy, naming the file and the problem. */
  constructor(private readonly settings: PolicyFileSettings) {
    const { policyFile, where } = settings;
    let bytes: Buffer;
    try {
      bytes = readFileSync(policyFile);
    } catch (error) {
      throw new AuthConfigError(`${where}: ${unreadable(error, policyFile)}`);
    }
    this.#current = parse(bytes, settings);
    this.#lastBytes = bytes;
    this.#schedule();
  }

  /** The policy in effect, with its audit settings. */
  get current(): AuthorizationPolicy {
    return this.#current;
  }

  /** Stops re-reading the file. */
  close(): void {
    this.#timer?.clear();
    this.#timer = undefined;
  }

  #schedule(): void {
    this.#timer = this.settings.clock.setTimeout(() => {
      // Nothing a re-read meets may end the process or reach grpc-js.
      void this.#refresh()
        .catch((error: unknown) =>
          debug('%s: re-reading the policy file failed (%s)', this.settings.where, describeThrown(error)),
        )
        .finally(() => {
          if (this.#timer !== undefined) this.#schedule();
        });
    }, this.settings.refreshIntervalMs);
  }

  async #refresh(): Promise<void> {
    const { policyFile, where } = this.settings;
    let bytes: Buffer;
    try {
      bytes = await readFile(policyFile);
    } catch (error) {
      const problem = `${where}: ${unreadable(error, policyFile)}`;
      if (this.#unreadableOnce !== problem) {
        this.#unreadableOnce = problem;
        return;
      }
      if (this.#reportedUnreadable === problem) return;
      this.#reportedUnreadable = problem;
      return this.#reportFailure(new AuthConfigError(problem));
    }
    this.#unreadableOnce = this.#reportedUnreadable = undefined;
    if (bytes.equals(this.#lastBytes)) return;
    this.#lastBytes = bytes;
    let loaded: AuthorizationPolicy;
    try {
      loaded = parse(bytes, this.settings);
    } catch (error) {
      if (!(error instanceof AuthConfigError)) throw error;
      return this.#reportFailure(error);
    }
    // One assignment: a call reads either the old policy or this one, with its own audit settings.
    this.#current = loaded;
    debug('%s: loaded policy "%s" from policyFile %s', where, loaded.name, policyFile);
    this.#tell({ ok: true, policyName: loaded.name });
  }

  #reportFailure(error: AuthConfigError): void {
    const { where } = this.settings;
    // The problem as the error words it, without its own `<where>: ` start.
    const problem = error.message.startsWith(`${where}: `) ? error.message.slice(where.length + 2) : error.message;
    const message = `${where}: kept the last good policy "${this.#current.name}": ${problem}`;
    debug('%s', message);
    process.emitWarning(message, { type: 'AuthorizationPolicyReloadWarning', code: 'GRPC_OAUTH2_POLICY_NOT_RELOADED' });
    this.#tell({ ok: false, error });
  }

  #tell(event: PolicyReloadEvent): void {
    try {
      this.settings.onReload?.(event);
    } catch (error) {
      debug('%s: onReload threw %s', this.settings.where, describeThrown(error));
    }
  }
}

function parse(bytes: Buffer, { policyFile, where }: PolicyFileSettings): AuthorizationPolicy {
  return AuthorizationPolicy.parse(bytes.toString('utf8'), `${where}: policyFile ${policyFile}`);
}

/** Why the file could not be read: its path and the system's code, never its bytes. */
function unreadable(error: unknown, path: string): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ENOENT') return `policyFile ${path} does not exist`;
  return `policyFile ${path} cannot be read (${typeof code === 'string' ? code : describeThrown(error)})`;
}
