import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runScript } from '../helpers/run-script.js';
import { skipWithoutRedis, startRedisServer } from './redis-server.js';

describe('examples/redis-fleet', { skip: skipWithoutRedis }, () => {
  it('eight managers make one token request at start-up and one for the refresh, and Redis holds only a hash key', async (t) => {
    const redis = await startRedisServer(t);
    const { code, stdout, stderr } = await runScript('examples/redis-fleet/main.ts', [redis.url]);
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    assert.match(stdout, /cold start +8 managers, 1 token request, 1 distinct token\n/);
    assert.match(stdout, /refreshed +2 token requests in all, 1 distinct token now\n/);
    assert.match(stdout, /stats +sharedCacheHits 14, tokenRequests 2, sharedCacheFailures 0\n/);
    assert.match(stdout, /in redis +example-fleet:[\w-]{43} \(encrypted/);
    assert.ok(!stdout.includes('example-secret-never-printed'));
    assert.ok(!/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/.test(stdout), 'no token printed');
  });
});
