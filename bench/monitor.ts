import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface ProcessFigures {
  /** 99th percentile of this process's event-loop delay while monitored (ms). */
  event_loop_p99_ms: number;
  event_loop_max_ms: number;
  /** Highest resident set size sampled every 100 ms (MiB). */
  rss_mb_max: number;
}

/** Watches this process's event-loop delay and memory until stop(). */
export function watchProcess(): { stop(): ProcessFigures } {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  let rss = process.memoryUsage.rss();
  const t = setInterval(() => (rss = Math.max(rss, process.memoryUsage.rss())), 100);
  return {
    stop() {
      clearInterval(t);
      h.disable();
      rss = Math.max(rss, process.memoryUsage.rss());
      return {
        event_loop_p99_ms: Number((h.percentile(99) / 1e6).toFixed(1)),
        event_loop_max_ms: Number((h.max / 1e6).toFixed(1)),
        rss_mb_max: Math.round(rss / 2 ** 20),
      };
    },
  };
}

/** The p-quantile of unsorted samples (0 when empty). */
export function quantile(samples: number[], p: number): number {
  if (!samples.length) return 0;
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
}
