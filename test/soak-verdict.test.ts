import t from 'tap'
import { MEMORY_WARMUP_SECONDS, soakVerdict, soakText } from '../scripts/loadtest/summary.ts'
import type { RunResult, TimelinePoint } from '../scripts/loadtest/run.ts'

// The soak's memory verdict (scripts/loadtest/summary.ts) on a made-up 30-minute timeline: growth is measured from
// the end of the warm-up, not from minute 1, and growth after it (the coordinator's after midnight, say) still counts.

function run (seconds: number, rss: Record<string, (at: number) => number>): RunResult {
  const timeline: TimelinePoint[] = []
  for (let at = 0; at < seconds; at++) {
    const processes = Object.fromEntries(Object.entries(rss).map(([name, f]) => [name, { rssMb: f(at), cpu: 0.1, fds: 30 }]))
    timeline.push({
      at,
      requests: 250,
      unintended: 0,
      byRoute: { read: { n: 200, p50: 4, p99: 40 } },
      delivery: { n: 0, p50: NaN, p99: NaN },
      viewersConnected: 8000,
      sample: { at: at + 1, processes, dbConnections: 40, loadAverage: 2 }
    })
  }
  const processes = Object.fromEntries(Object.keys(rss).map((name) => [name, { rss_mb_first: 0, rss_mb_max: 0, rss_mb_last: 0, cpu_mean: 0, fds_first: 0, fds_max: 0, fds_last: 0 }]))
  return {
    seconds,
    timeline,
    processes,
    totals: { requests: 0, unintended: 0, unintended_rate: 0, dropped: 0, per_second: 0 },
    database: { budget: 40, connections_max: 40, transactions: null, pool_timeouts: 0, cache_hit_rate: null }
  } as unknown as RunResult
}

t.test('RSS growth is measured from the end of the warm-up, and growth after it counts', async (t) => {
  const verdict = soakVerdict(run(1800, {
    // Climbs for five minutes, then holds: the first soak's +23.7 % from minute 1.
    'worker 1': (at) => 200 + 60 * Math.min(at, 300) / 300,
    // Flat until midnight at 900 s, then 1.2 MB a minute: real growth.
    coordinator: (at) => at < 900 ? 150 : 150 + 1.2 * (at - 900) / 60,
    // Flat, but the very last sample caught just before a collection gave memory back.
    'worker 2': (at) => at === 1799 ? 300 : 250
  }))
  t.ok(verdict !== null)
  t.equal(verdict?.memory_warmup_seconds, MEMORY_WARMUP_SECONDS)
  t.equal(MEMORY_WARMUP_SECONDS, 300)
  t.equal(verdict?.rss_growth['worker 1']?.growth_pct, 0, 'the warm-up climb is not growth')
  const coordinator = verdict?.rss_growth.coordinator?.growth_pct ?? 0
  t.ok(coordinator > 10, `the slope after midnight is (${coordinator} %)`)
  t.equal(verdict?.rss_growth['worker 2']?.growth_pct, 0, 'one sample does not decide it')
  t.match(soakText(run(1800, { coordinator: () => 150 })), /RSS \(5 min warm-up; median of the minute after it → of the last minute\): coordinator 150 → 150 MB/)
})

t.test('a run shorter than 12 minutes gets no soak verdict', async (t) => {
  t.equal(soakVerdict(run(600, { coordinator: () => 150 })), null)
})
