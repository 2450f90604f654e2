import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { metrics, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { clientSecret, createClock, createManager, startTokenServer } from '../helpers/token-fixtures.js';

// One SDK for the whole file (a process has one global provider); registered before any manager
// exists, as an application must: a manager makes its instruments when it is created.
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
const meterProvider = new MeterProvider({ readers: [reader] });
const spanExporter = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] });
metrics.setGlobalMeterProvider(meterProvider);
trace.setGlobalTracerProvider(tracerProvider);
after(async () => {
  await meterProvider.shutdown();
  await tracerProvider.shutdown();
  metrics.disable();
  trace.disable();
});

/** Every metric collected so far, by name. */
async function collected(): Promise<Map<string, MetricData>> {
  metricExporter.reset();
  await reader.forceFlush();
  const byName = new Map<string, MetricData>();
  for (const resource of metricExporter.getMetrics()) {
    for (const scope of resource.scopeMetrics) {
      if (scope.scope.name !== 'grpc-oauth2-credentials') continue;
      for (const metric of scope.metrics) byName.set(metric.descriptor.name, metric);
    }
  }
  return byName;
}

function sumOf(metric: MetricData | undefined, attributes: Record<string, unknown> = {}): number {
  return (metric?.dataPoints ?? [])
    .filter((point) => Object.entries(attributes).every(([key, value]) => point.attributes[key] === value))
    .reduce((total, point) => total + (point.value as number), 0);
}

describe('telemetry through @opentelemetry/api', () => {
  it('counts requests, failures by code and waiting callers, records refresh latency and time to expiry, and spans each request', async (t) => {
    const server = await startTokenServer(t);
    const tokens = createManager(t, server, { retry: { retries: 0 } });
    const token = await tokens.getToken();
    server.failNext(1, { type: 'error', status: 400, error: 'invalid_scope' });
    await assert.rejects(tokens.getToken({ scopes: ['orders.write'] }));

    const byName = await collected();
    assert.equal(sumOf(byName.get('oauth2.token.requests')), 2);
    assert.equal(sumOf(byName.get('oauth2.token.failures'), { 'error.type': 'invalid_scope' }), 1);
    assert.equal(sumOf(byName.get('oauth2.token.callers_waited'), { 'oauth2.outcome': 'token' }), 1);
    assert.equal(sumOf(byName.get('oauth2.token.callers_waited'), { 'oauth2.outcome': 'error' }), 1);

    const latency = byName.get('oauth2.token.refresh.duration');
    assert.equal(latency?.dataPointType, DataPointType.HISTOGRAM);
    assert.equal(latency.descriptor.unit, 's');
    const [histogram] = latency.dataPoints;
    assert.equal((histogram?.value as { count: number }).count, 1);

    const gauge = byName.get('oauth2.token.time_to_expiry');
    assert.equal(gauge?.dataPointType, DataPointType.GAUGE);
    const [left] = gauge.dataPoints;
    assert.equal(left?.attributes['oauth2.scopes'], 'orders.read');
    assert.ok(left?.value > 3_590 && left?.value <= 3_600, String(left?.value));

    const spans = spanExporter.getFinishedSpans().filter((span) => span.name === 'oauth2.token_request');
    assert.equal(spans.length, 2);
    assert.equal(spans[0]?.kind, SpanKind.CLIENT);
    assert.equal(spans[0]?.attributes['oauth2.scopes'], 'orders.read');
    assert.equal(spans[0]?.status.code, SpanStatusCode.UNSET);
    assert.equal(spans[1]?.status.code, SpanStatusCode.ERROR);
    assert.equal(spans[1]?.attributes['error.type'], 'invalid_scope');

    const everything = JSON.stringify([
      metricExporter.getMetrics(),
      spans.map((span) => [span.attributes, span.status, span.events]),
    ]);
    assert.ok(
      !everything.includes(clientSecret) && !everything.includes(token.accessToken),
      'no secret or token in telemetry',
    );
  });

  it("stops observing a manager's time to expiry once it is closed", async (t) => {
    const clock = createClock();
    const server = await startTokenServer(t, { clock });
    const tokens = createManager(t, server, { scopes: ['inventory.read'], clock });
    await tokens.getToken();
    const secondsLeft = async (): Promise<number | undefined> =>
      ((await collected()).get('oauth2.token.time_to_expiry')?.dataPoints ?? []).find(
        (point) => point.attributes['oauth2.scopes'] === 'inventory.read',
      )?.value as number | undefined;
    assert.equal(await secondsLeft(), 3_600);
    await clock.advance(100_000);
    assert.equal(await secondsLeft(), 3_500, 'observed on the manager clock');
    tokens.close();
    await clock.advance(100_000);
    // A cumulative exporter keeps the last value it saw; a closed manager no longer updates it.
    assert.equal(await secondsLeft(), 3_500);
  });
});
