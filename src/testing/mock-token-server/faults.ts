// Fault injection: the answers a test queues for the next token requests instead of normal ones.
import type { ServerResponse } from 'node:http';
import { httpDate, sendJson, type Clock } from './http.js';
import type { TokenServerFault } from './types.js';

/** The faults queued for the next token requests, oldest first, and the answers they make. */
export class FaultQueue {
  readonly #queue: TokenServerFault[] = [];
  /** Pending `delay` faults: {@link releaseDelays} resolves them so no handler is left waiting. */
  readonly #delays = new Map<NodeJS.Timeout, () => void>();
  readonly #clock: Clock;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Queues `fault` for the next `count` token requests, after those already queued. */
  push(count: number, fault: TokenServerFault): void {
    if (!Number.isInteger(count) || count < 0) throw new RangeError('failNext: count must be a whole number >= 0');
    for (let i = 0; i < count; i++) this.#queue.push(fault);
  }

  /** The fault for the token request that just arrived, if one is queued. */
  take(): TokenServerFault | undefined {
    return this.#queue.shift();
  }

  /** Drops every queued fault. */
  clear(): void {
    this.#queue.length = 0;
  }

  /**
   * Answers `res` as `fault` says and resolves with `'answered'`, or, for a fault that changes only how
   * the normal answer comes (`delay`), resolves with `'normal'` when that answer should go.
   */
  async apply(res: ServerResponse, fault: TokenServerFault): Promise<'answered' | 'normal'> {
    const date = httpDate(this.#clock);
    switch (fault.type) {
      case 'delay':
        await this.#delay(fault.ms);
        return res.destroyed ? 'answered' : 'normal';
      case 'error': {
        const headers: Record<string, string> = {};
        if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
        if (fault.wwwAuthenticate ?? fault.status === 401) {
          headers['www-authenticate'] = `Basic realm="mock"${fault.error ? `, error="${fault.error}"` : ''}`;
        }
        if (fault.error === undefined) {
          res.writeHead(fault.status, { ...headers, 'content-type': 'text/plain', date });
          res.end(`HTTP ${fault.status}`);
        } else {
          sendJson(res, this.#clock, fault.status, { error: fault.error, error_description: fault.errorDescription || undefined }, headers);
        }
        return 'answered';
      }
      case 'hang':
        return 'answered';
      case 'hang-after-headers':
        res.writeHead(200, { 'content-type': 'application/json', date });
        res.flushHeaders();
        return 'answered';
      case 'reset':
        res.socket?.destroy();
        return 'answered';
      case 'reset-mid-body':
        // The promised length makes the cut visible to the client as an incomplete body.
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '200', date });
        res.write('{"access_token":"eyJ', () => res.socket?.destroy());
        return 'answered';
      case 'body':
        res.writeHead(fault.status ?? 200, { 'content-type': fault.contentType ?? 'application/json', date, ...fault.headers });
        res.end(fault.body);
        return 'answered';
      case 'html':
        res.writeHead(fault.status ?? 502, { 'content-type': 'text/html; charset=utf-8', date });
        res.end('<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>');
        return 'answered';
    }
  }

  /** Ends every pending `delay` at once, for `close()`. */
  releaseDelays(): void {
    for (const [timer, release] of this.#delays) {
      clearTimeout(timer);
      release();
    }
    this.#delays.clear();
  }

  #delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#delays.delete(timer);
        resolve();
      }, ms);
      timer.unref();
      this.#delays.set(timer, resolve);
    });
  }
}
