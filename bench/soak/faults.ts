// The faults of the one-process soak, drawn at random: what each one is, and how it is drawn.
import type { TokenServerFault } from '../../src/testing/index.js';
import type { Random } from './random.js';

/** Every kind of fault, each drawn as often. */
export const faultKinds = [
  'server-errors',
  'hang',
  'connection-reset',
  'rate-limited',
  'fatal-once',
  'signing-key-rotation',
  'short-tokens',
  'wall-clock-step',
  'credential-function-hang',
  'secret-file-rotation',
] as const;

export type FaultKind = (typeof faultKinds)[number];

/** A fault the token server answers the next `count` token requests with (`MockTokenServer.failNext`). */
export interface ServerFaultEpisode {
  readonly kind: 'server-errors' | 'hang' | 'connection-reset' | 'rate-limited' | 'fatal-once' | 'short-tokens';
  readonly count: number;
  readonly fault: TokenServerFault;
}

/** A fault that is not an answer of the token server. */
export type OtherFaultEpisode =
  | { readonly kind: 'signing-key-rotation' }
  | { readonly kind: 'wall-clock-step'; readonly stepMs: number }
  | { readonly kind: 'credential-function-hang' }
  | { readonly kind: 'secret-file-rotation'; readonly secret: string };

export type FaultEpisode = ServerFaultEpisode | OtherFaultEpisode;

/** The wall clock stays within this of true time: steps that would take it further go the other way. */
export const maxWallClockOffsetMs = 15 * 60_000;

/**
 * One fault, drawn from `random`. `wallClockOffsetMs` is how far the wall clock is from true time
 * now (a step is drawn to keep it within {@link maxWallClockOffsetMs}).
 */
export function drawFault(random: Random, wallClockOffsetMs: number): FaultEpisode {
  const kind = random.pick(faultKinds);
  switch (kind) {
    case 'server-errors': {
      // Mostly a flap of a few answers; one in ten is an outage of minutes to an hour of retries.
      const count = random.chance(0.1) ? random.integer(40, 240) : random.integer(1, 12);
      const status = random.pick([500, 502, 503, 504]);
      return { kind, count, fault: { type: 'error', status } };
    }
    case 'hang':
      return { kind, count: random.integer(1, 2), fault: { type: 'hang' } };
    case 'connection-reset':
      return { kind, count: random.integer(1, 4), fault: { type: 'reset' } };
    case 'rate-limited': {
      const retryAfter = random.integer(1, 60);
      const fault: TokenServerFault = { type: 'error', status: 429, error: 'slow_down', retryAfter };
      return { kind, count: random.integer(1, 3), fault };
    }
    case 'fatal-once':
      return { kind, count: 1, fault: { type: 'error', status: 401, error: 'invalid_client' } };
    case 'short-tokens': {
      // Shorter than the 60 s refresh margin.
      const lifetimeSec = random.integer(5, 50);
      const fault: TokenServerFault = { type: 'token', jwtLifetimeSec: lifetimeSec, expiresInSec: lifetimeSec };
      return { kind, count: random.integer(1, 3), fault };
    }
    case 'wall-clock-step': {
      const sizeMs = random.integer(1_000, 10 * 60_000);
      const stepMs = random.chance(0.5) ? sizeMs : -sizeMs;
      const within = Math.abs(wallClockOffsetMs + stepMs) <= maxWallClockOffsetMs;
      return { kind, stepMs: within ? stepMs : -stepMs };
    }
    case 'secret-file-rotation':
      return { kind, secret: `soak-secret-${random.integer(0, 2 ** 31)}` };
    default:
      return { kind };
  }
}

/** Whether `episode` is made of token server answers. */
export function isServerFault(episode: FaultEpisode): episode is ServerFaultEpisode {
  return 'fault' in episode;
}
