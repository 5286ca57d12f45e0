import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer } from '../../../src/observability/http.js';
import {
  CALL_OUTCOMES,
  callEnded,
  callStarted,
  recordError,
  registry,
  setEventQueueDepthSampler,
} from '../../../src/observability/metrics.js';
import { turnLatencyHistogram } from '../../../src/pipeline/latency-meter.js';

/** The operational metrics, as Prometheus sees them: scraped from the real /metrics endpoint. */

describe('/metrics', () => {
  let server: Server;
  let url: string;

  beforeAll(async () => {
    // The worker registers the per-stage latency histogram when it creates its LatencyMeter.
    turnLatencyHistogram(registry);
    server = await startHttpServer(0, registry, { ready: () => ({ ready: true }) }, '127.0.0.1');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  });

  afterAll(() => {
    setEventQueueDepthSampler(undefined);
    server?.close();
  });

  const scrape = async () => {
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    return res.text();
  };
  const value = (text: string, series: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };

  it('exposes every operational metric', async () => {
    const text = await scrape();
    for (const [name, type] of [
      ['voice_agent_active_calls', 'gauge'],
      ['voice_agent_calls_ended_total', 'counter'],
      ['voice_agent_event_queue_depth', 'gauge'],
      ['voice_agent_persist_lag_seconds', 'histogram'],
      ['voice_agent_errors_total', 'counter'],
      ['voice_agent_turn_latency_seconds', 'histogram'],
      ['voice_agent_calls_reaped_total', 'counter'],
      ['voice_agent_events_emitted_total', 'counter'],
      ['voice_agent_persist_batch_seconds', 'histogram'],
    ]) {
      expect(text, name).toContain(`# TYPE ${name} ${type}`);
    }
    // Every outcome is there from the start, at 0.
    for (const outcome of CALL_OUTCOMES)
      expect(value(text, `voice_agent_calls_ended_total{outcome="${outcome}"}`)).toBe(0);
  });

  it('counts calls, outcomes and errors as the worker reports them', async () => {
    callStarted();
    callStarted();
    callStarted();
    callEnded('completed');
    callEnded('transferred');
    recordError('stt_error');
    recordError('stt_error');
    const text = await scrape();
    expect(value(text, 'voice_agent_active_calls')).toBe(1);
    expect(value(text, 'voice_agent_calls_ended_total{outcome="completed"}')).toBe(1);
    expect(value(text, 'voice_agent_calls_ended_total{outcome="transferred"}')).toBe(1);
    expect(value(text, 'voice_agent_calls_ended_total{outcome="failed"}')).toBe(0);
    expect(value(text, 'voice_agent_errors_total{type="stt_error"}')).toBe(2);
    callEnded('interrupted');
    expect(value(await scrape(), 'voice_agent_active_calls')).toBe(0);
  });

  it('samples the queue depth on scrape, without letting a stuck sample hold the scrape', async () => {
    let depth = 7;
    setEventQueueDepthSampler(async () => depth, 200);
    expect(value(await scrape(), 'voice_agent_event_queue_depth')).toBe(7);
    depth = 3;
    expect(value(await scrape(), 'voice_agent_event_queue_depth')).toBe(3);

    // Redis hangs: the scrape answers after the timeout with the last known value.
    let calls = 0;
    setEventQueueDepthSampler(() => {
      calls++;
      return new Promise<number>(() => {});
    }, 200);
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const text = await scrape();
      expect(performance.now() - t0).toBeLessThan(2500); // timeout 200 ms; slack for a busy host
      expect(value(text, 'voice_agent_event_queue_depth')).toBe(3);
    }
    expect(calls).toBe(1); // one sample in flight at most, however many scrapes
    expect(
      value(await scrape(), 'voice_agent_errors_total{type="queue_depth_timeout"}'),
    ).toBeGreaterThanOrEqual(3);

    // A failing sampler is counted, and the scrape still succeeds.
    const remove = setEventQueueDepthSampler(async () => {
      throw new Error('redis down');
    });
    expect(value(await scrape(), 'voice_agent_event_queue_depth')).toBe(3);
    // (Counted during that scrape's collection; errors_total was already serialized by then.)
    expect(
      value(await scrape(), 'voice_agent_errors_total{type="queue_depth_sample"}'),
    ).toBeGreaterThanOrEqual(1);
    remove();
    remove(); // removing twice, or after another sampler was installed, is harmless
  });
});
