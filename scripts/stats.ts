// A terminal view of a running server's /stats, redrawn every second on one screen: for an operator watching a
// deploy or a soak.
//
//   npm run stats -- --url https://api.example.com              (STATS_TOKEN from the environment when set)
//   npm run stats -- --url http://127.0.0.1:8000 --token <token> --interval 2
//
// On a terminal it redraws in place until Ctrl-C. Piped or redirected it prints one frame after another, separated by
// a blank line, which is also how the tests read it; `--frames N` stops after N frames. Rates (requests/s,
// frames/s) are the differences between two reads, so the first frame shows them as "…".

interface Pool { max: number, open: number, in_use: number, waiting: number, timeouts: number }
interface Latency { count: number, p50_ms: number | null, p95_ms: number | null, p99_ms: number | null }
interface Worker { id: number, pid: number, uptime: number, restarts: number, requests: number, in_flight: number, errors_5xx: number, pool: Pool, sse: { subscribers: number } }

interface Stats {
  timestamp: number
  version: string
  instance: string
  coordinator: { pid: number, uptime: number, restarts: number, workers_connected: number } | null
  database: { connected: boolean, pool: { in_use: number, pool_size: number, waiting: number, timeouts: number, total_capacity: number } }
  cache: { size: number, bytes: number, hits: number, misses: number, hit_rate: string, evictions: number } | null
  rate_limits: { store: string, allowed: number, denied: number, by_tier?: Record<string, { allowed: number, denied: number }>, breaker?: string } | null
  sse: { subscribers: number, frames_sent: number, cut_off: number }
  requests: { total: number, in_flight: number, errors_5xx: number, by_status_class: Record<string, number> }
  latency: { instance: boolean, groups: Record<string, Latency> }
  event_loop: Record<string, { p99_ms: number | null, max_ms: number | null }>
  restarts: { total: number }
  workers: Worker[]
  memory: { total_rss: number, primary: { pid: number, rss: number | null } | null, coordinator: { pid: number, rss: number } | null, workers: Array<{ id: number, rss: number }> }
}

interface Options { url: string, token: string | null, intervalMs: number, frames: number | null }

function usage (problem: string): never {
  process.stderr.write(`${problem}\nusage: npm run stats -- --url <server> [--token <STATS_TOKEN>] [--interval <seconds>] [--frames <n>]\n`)
  process.exit(2)
}

function options (args: string[]): Options {
  const value = (name: string): string | undefined => {
    const index = args.indexOf(`--${name}`)
    if (index < 0) return undefined
    const found = args[index + 1]
    if (found === undefined || found.startsWith('--')) usage(`--${name} needs a value`)
    return found
  }
  const url = value('url') ?? process.env.TABEBY_URL ?? usage('--url is required')
  try {
    const parsed = new URL(url)
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') usage(`--url must be http:// or https://, got ${url}`)
  } catch {
    usage(`--url is not a URL: ${url}`)
  }
  const seconds = Number(value('interval') ?? '1')
  if (!Number.isFinite(seconds) || seconds < 0.2) usage('--interval must be a number of seconds, at least 0.2')
  const framesText = value('frames')
  const frames = framesText === undefined ? null : Number(framesText)
  if (frames !== null && (!Number.isInteger(frames) || frames < 1)) usage('--frames must be a whole number, at least 1')
  return { url: url.replace(/\/+$/, ''), token: value('token') ?? process.env.STATS_TOKEN ?? null, intervalMs: seconds * 1000, frames }
}

const mib = (bytes: number | null | undefined): string => bytes === null || bytes === undefined ? '—' : `${(bytes / 2 ** 20).toFixed(0)} MiB`
const msText = (value: number | null | undefined): string => value === null || value === undefined ? '—' : `${value.toFixed(value < 10 ? 1 : 0)} ms`
const duration = (seconds: number): string => seconds < 120 ? `${Math.round(seconds)}s` : seconds < 7200 ? `${Math.round(seconds / 60)}m` : `${(seconds / 3600).toFixed(1)}h`

function rate (now: number, before: number | undefined, seconds: number): string {
  if (before === undefined || seconds <= 0) return '…'
  return (Math.max(0, now - before) / seconds).toFixed(1)
}

function table (rows: string[][]): string[] {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? []
  return rows.map((row) => row.map((cell, column) => column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0)).join('  '))
}

// One screen from the current read and the one before it (null on the first).
function render (url: string, now: Stats, before: Stats | null): string {
  const seconds = before === null ? 0 : now.timestamp - before.timestamp
  const lines: string[] = []
  const { requests } = now
  lines.push(`Tabeby ${now.version} at ${url}  instance ${now.instance}  ${new Date(now.timestamp * 1000).toISOString()}`)
  lines.push('')
  lines.push(`requests/s ${rate(requests.total, before?.requests.total, seconds)}   total ${requests.total}   in flight ${requests.in_flight}   ` +
    `5xx ${requests.errors_5xx} (${rate(requests.errors_5xx, before?.requests.errors_5xx, seconds)}/s)   ` +
    `4xx ${requests.by_status_class['4xx'] ?? 0}   restarts ${now.restarts.total}`)
  lines.push('')
  const groups = Object.entries(now.latency.groups).filter(([, latency]) => latency.count > 0)
  lines.push(`latency${now.latency.instance ? '' : ' (this worker only: coordinator away)'}`)
  lines.push(...table([['  group', 'count', 'p50', 'p95', 'p99'], ...groups.map(([group, l]) => [`  ${group}`, String(l.count), msText(l.p50_ms), msText(l.p95_ms), msText(l.p99_ms)])]))
  lines.push('')
  const rss = new Map(now.memory.workers.map((w) => [w.id, w.rss]))
  const loop = (name: string): string => msText(now.event_loop[name]?.p99_ms)
  lines.push(...table([
    ['process', 'pid', 'up', 'restarts', 'rss', 'loop p99', 'requests', 'in flight', 'pool', 'waiting', 'sse'],
    ...now.workers.map((w) => [`worker-${w.id}`, String(w.pid), duration(w.uptime), String(w.restarts), mib(rss.get(w.id)), loop(`worker-${w.id}`),
      String(w.requests), String(w.in_flight), `${w.pool.in_use}/${w.pool.max}`, String(w.pool.waiting), String(w.sse.subscribers)]),
    ...(now.coordinator === null
      ? [['coordinator', 'away', '', '', '', '', '', '', '', '', '']]
      : [['coordinator', String(now.coordinator.pid), duration(now.coordinator.uptime), String(now.coordinator.restarts), mib(now.memory.coordinator?.rss), loop('coordinator'), '', '', '', '', '']]),
    ...(now.memory.primary === null ? [] : [['primary', String(now.memory.primary.pid), '', '', mib(now.memory.primary.rss), '', '', '', '', '', '']])
  ]))
  lines.push(`total rss ${mib(now.memory.total_rss)}`)
  lines.push('')
  const pool = now.database.pool
  lines.push(`pool      ${now.database.connected ? 'connected' : 'DATABASE UNREACHABLE'}   in use ${pool.in_use}/${pool.total_capacity}   open ${pool.pool_size}   waiting ${pool.waiting}   timeouts ${pool.timeouts}`)
  const cache = now.cache
  lines.push(cache === null
    ? 'cache     coordinator away'
    : `cache     hit rate ${cache.hit_rate}   entries ${cache.size}   ${mib(cache.bytes)}   hits ${cache.hits}   misses ${cache.misses}   evictions ${cache.evictions}`)
  lines.push(`sse       subscribers ${now.sse.subscribers}   frames/s ${rate(now.sse.frames_sent, before?.sse.frames_sent, seconds)}   cut off ${now.sse.cut_off}`)
  const limits = now.rate_limits
  if (limits === null) lines.push('limits    coordinator away')
  else {
    const tiers = Object.entries(limits.by_tier ?? {}).map(([tier, t]) => `${tier} ${t.allowed}/${t.denied}`).join('   ')
    lines.push(`limits    ${limits.store}${limits.breaker === undefined ? '' : ` (breaker ${limits.breaker})`}   denied ${limits.denied} (${rate(limits.denied, before?.rate_limits?.denied, seconds)}/s)   allowed/denied by tier: ${tiers === '' ? '—' : tiers}`)
  }
  return lines.join('\n')
}

async function read (opts: Options): Promise<Stats> {
  const headers: Record<string, string> = { Accept: 'application/json' }
  if (opts.token !== null) headers.Authorization = `Bearer ${opts.token}`
  const response = await fetch(`${opts.url}/stats`, { headers, signal: AbortSignal.timeout(Math.max(3000, opts.intervalMs * 3)) })
  if (response.status === 401) {
    process.stderr.write(`${opts.url}/stats answered 401: ${opts.token === null ? 'the server has STATS_TOKEN set; pass --token or set STATS_TOKEN' : 'the token is wrong'}\n`)
    process.exit(2)
  }
  if (!response.ok) throw new Error(`/stats answered ${response.status}`)
  return await response.json() as Stats
}

async function main (): Promise<void> {
  const opts = options(process.argv.slice(2))
  const terminal = process.stdout.isTTY === true
  let before: Stats | null = null
  for (let frame = 1; opts.frames === null || frame <= opts.frames; frame++) {
    const started = Date.now()
    let screen: string
    try {
      const now = await read(opts)
      screen = render(opts.url, now, before)
      before = now
    } catch (error) {
      screen = `${opts.url}: ${error instanceof Error ? error.message : String(error)} (retrying)`
    }
    // A terminal is redrawn in place (cursor home, clear screen); a pipe gets the frames one after another.
    process.stdout.write(terminal ? `\x1b[H\x1b[2J${screen}\n` : `${screen}\n\n`)
    if (opts.frames !== null && frame === opts.frames) break
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, opts.intervalMs - (Date.now() - started))))
  }
}

await main()
