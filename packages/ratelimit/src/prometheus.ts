import { Counter, Gauge, Histogram, type Registry, register } from 'prom-client';
import type { RatelimitEvent } from './limiter/types.js';

export interface PrometheusOptions {
  /** Where the metrics are registered. @default prom-client's global `register` */
  registry?: Registry;
  /**
   * Buckets of `redis_operation_duration_seconds` (seconds).
   * @default [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]
   */
  buckets?: readonly number[];
}

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** The metric of that name in the registry (registered by an earlier call), or a new one. */
function metric<M>(registry: Registry, name: string, create: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? create();
}

/**
 * Prometheus metrics for a limiter, as an `onEvent` listener. Several limiters may share one listener or
 * one registry (the metrics are registered once; `redis_fallback_active` then counts the limiters whose
 * fallback is active).
 *
 * - `rate_limit_requests_total{rule,result,reason}`: `limit()` answers; result `allowed`/`denied`, reason
 *   as in the result (`store`, `cache`, `fallback`, `timeout`, `error`, `allowlist`, `denylist`)
 * - `rate_limit_exceeded_total{rule}`: denied answers, by binding rule
 * - `redis_operation_duration_seconds{operation,outcome}`: histogram of primary store calls (`limit`,
 *   `usage`, `reset`, `probe`; `ok`, `error`, `timeout`)
 * - `redis_connection_errors_total{operation,outcome}`: primary store calls that failed or timed out
 * - `redis_fallback_active`: 1 while the primary store is bypassed
 *
 * @example
 * import { prometheusMetrics } from '@periodkey/ratelimit/prometheus';
 * const limiter = new Ratelimit({ rules, fallback: new MemoryStore(), onEvent: prometheusMetrics() });
 */
export function prometheusMetrics(options: PrometheusOptions = {}): (event: RatelimitEvent) => void {
  const registry = options.registry ?? register;
  const registers = [registry];
  const requests = metric(
    registry,
    'rate_limit_requests_total',
    () =>
      new Counter({
        name: 'rate_limit_requests_total',
        help: 'Rate limit decisions, by binding rule, result (allowed, denied) and who answered (reason)',
        labelNames: ['rule', 'result', 'reason'] as const,
        registers,
      }),
  );
  const exceeded = metric(
    registry,
    'rate_limit_exceeded_total',
    () =>
      new Counter({
        name: 'rate_limit_exceeded_total',
        help: 'Requests denied by the rate limiter, by binding rule',
        labelNames: ['rule'] as const,
        registers,
      }),
  );
  const duration = metric(
    registry,
    'redis_operation_duration_seconds',
    () =>
      new Histogram({
        name: 'redis_operation_duration_seconds',
        help: 'Duration of rate limiter calls to the primary store (timeouts end at the limiter timeout)',
        labelNames: ['operation', 'outcome'] as const,
        buckets: [...(options.buckets ?? BUCKETS)],
        registers,
      }),
  );
  const errors = metric(
    registry,
    'redis_connection_errors_total',
    () =>
      new Counter({
        name: 'redis_connection_errors_total',
        help: 'Rate limiter calls to the primary store that failed (outcome=error) or timed out (outcome=timeout)',
        labelNames: ['operation', 'outcome'] as const,
        registers,
      }),
  );
  const fallback = metric(
    registry,
    'redis_fallback_active',
    () =>
      new Gauge({
        name: 'redis_fallback_active',
        help: 'Rate limiters currently bypassing their primary store (answering from the fallback store or by policy)',
        registers,
      }),
  );

  return (event) => {
    switch (event.type) {
      case 'decision': {
        const { rule, success, reason } = event.result;
        requests.inc({ rule, result: success ? 'allowed' : 'denied', reason });
        if (!success) exceeded.inc({ rule });
        return;
      }
      case 'operation': {
        const labels = { operation: event.operation, outcome: event.outcome };
        duration.observe(labels, event.durationMs / 1000);
        if (event.outcome !== 'ok') errors.inc(labels);
        return;
      }
      case 'fallback':
        if (event.active) fallback.inc();
        else fallback.dec();
        return;
    }
  };
}
