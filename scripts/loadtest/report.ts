// The run as one HTML file that opens anywhere, offline: uPlot (a small time-series chart library, pinned in
// package.json) and its CSS are inlined from node_modules, the data is embedded as JSON, no CDN, no request. Then a
// PNG of it by headless Chromium (Debian's /usr/bin/chromium), for docs/BENCHMARKS.md.
import { execFile } from 'node:child_process'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { promisify } from 'node:util'
import type { Results } from './summary.ts'
import { summaryText } from './summary.ts'

const require = createRequire(import.meta.url)
const run = promisify(execFile)

const escapeHtml = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string)

// The series the charts draw, one array per line, aligned on the run's seconds.
function series (results: Results): Record<string, Array<number | null>> {
  const t = results.main.timeline
  const nan = (v: number | undefined): number | null => v === undefined || !Number.isFinite(v) ? null : v
  const out: Record<string, Array<number | null>> = {
    at: t.map((p) => p.at),
    requests: t.map((p) => p.requests),
    errors: t.map((p) => p.unintended),
    viewers: t.map((p) => p.viewersConnected),
    delivery_p50: t.map((p) => nan(p.delivery.p50)),
    delivery_p99: t.map((p) => nan(p.delivery.p99)),
    db_connections: t.map((p) => p.sample?.dbConnections ?? null),
    load_average: t.map((p) => p.sample?.loadAverage ?? null)
  }
  for (const route of ['read', 'book', 'walkIn', 'status', 'golden', 'payment', 'rush', 'poll'] as const) {
    if (!t.some((p) => p.byRoute[route] !== undefined)) continue
    out[`${route}_p50`] = t.map((p) => nan(p.byRoute[route]?.p50))
    out[`${route}_p99`] = t.map((p) => nan(p.byRoute[route]?.p99))
  }
  for (const name of Object.keys(results.main.processes)) out[`rss ${name}`] = t.map((p) => p.sample?.processes[name]?.rssMb ?? null)
  for (const name of Object.keys(results.main.processes)) out[`cpu ${name}`] = t.map((p) => p.sample?.processes[name]?.cpu ?? null)
  return out
}

// Runs in the page: one chart per panel, from the embedded data.
const PAGE_SCRIPT = `
const data = JSON.parse(document.getElementById('data').textContent);
const palette = ['#1f77b4','#d62728','#2ca02c','#ff7f0e','#9467bd','#8c564b','#e377c2','#17becf','#7f7f7f','#bcbd22'];
function chart(id, title, keys, unit, opts) {
  const present = keys.filter((k) => data[k] !== undefined);
  if (present.length === 0) return;
  const el = document.getElementById(id);
  const log = opts && opts.log;
  new uPlot({
    title, width: 560, height: 220,
    scales: { x: { time: false }, y: log ? { distr: 3 } : {} },
    axes: [{ label: 'seconds' }, { label: unit, size: 60 }],
    series: [{}].concat(present.map((k, i) => ({ label: k, stroke: palette[i % palette.length], width: 1.5, spanGaps: true }))),
    legend: { live: false }
  }, [data.at].concat(present.map((k) => data[k].map((v) => v === null ? null : (log ? Math.max(v, 0.1) : v)))), el);
}
chart('latency-p99', 'Latency p99 by route (ms, log)', Object.keys(data).filter((k) => k.endsWith('_p99') && !k.startsWith('delivery')), 'ms', { log: true });
chart('latency-p50', 'Latency p50 by route (ms, log)', Object.keys(data).filter((k) => k.endsWith('_p50') && !k.startsWith('delivery')), 'ms', { log: true });
chart('throughput', 'Requests per second, and errors', ['requests', 'errors'], 'per second');
chart('sse', 'SSE delivery (ms, log) of a booking to sampled viewers', ['delivery_p50', 'delivery_p99'], 'ms', { log: true });
// The server's processes only: the load generator keeps every answer's figures and grows to gigabytes over a soak,
// which flattened the server's lines to the axis. Its RSS is in the summary below.
chart('rss', 'Resident memory of the server\\'s processes (MB)', Object.keys(data).filter((k) => k.startsWith('rss ') && k !== 'rss load generator'), 'MB');
chart('cpu', 'CPU per process (cores)', Object.keys(data).filter((k) => k.startsWith('cpu ')), 'cores');
chart('viewers', 'SSE viewers connected', ['viewers'], 'viewers');
chart('db', 'Database connections held by the server, and load average', ['db_connections', 'load_average'], 'count');
`

export function renderReport (results: Results): string {
  const uplotJs = readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8')
  const uplotCss = readFileSync(join(dirname(require.resolve('uplot/dist/uPlot.iife.min.js')), 'uPlot.min.css'), 'utf8')
  // </script> cannot appear inside the embedded JSON: every "<" is escaped.
  const data = JSON.stringify(series(results)).replace(/</g, '\\u003c')
  const r = results.main
  const verdict = r.invariants === null ? 'invariants not checked' : r.invariants.violations === 0 ? 'every invariant holds' : `${r.invariants.violations} invariant violations`
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tabeby load test: ${escapeHtml(results.label)}</title>
<style>${uplotCss}
body { font: 13px system-ui, sans-serif; margin: 16px; color: #222; width: 1180px; }
h1 { font-size: 18px; margin: 0 0 4px; } .sub { color: #555; margin-bottom: 10px; }
.grid { display: grid; grid-template-columns: 580px 580px; gap: 6px 16px; }
pre { font-size: 11px; background: #f6f6f6; padding: 8px; overflow-x: auto; }
.ok { color: #2a7d2a; font-weight: 600; } .bad { color: #b00; font-weight: 600; }
</style></head><body>
<h1>Tabeby API load test: ${r.settings.users as number} users, ${r.seconds} s</h1>
<div class="sub">${escapeHtml(r.machine)} · started ${escapeHtml(r.startedAt)} · load average ${r.loadAverage.start.join(' ')} → ${r.loadAverage.end.join(' ')} ·
<span class="${r.invariants !== null && r.invariants.violations === 0 ? 'ok' : 'bad'}">${escapeHtml(verdict)}</span> ·
errors ${(r.totals.unintended_rate * 100).toFixed(3)} % · SSE delivery p99 ${r.sse.delivery.p99_ms} ms</div>
<div class="grid">
<div id="latency-p99"></div><div id="latency-p50"></div>
<div id="throughput"></div><div id="sse"></div>
<div id="rss"></div><div id="cpu"></div>
<div id="viewers"></div><div id="db"></div>
</div>
<pre>${escapeHtml(summaryText(results))}</pre>
<script>${uplotJs}</script>
<script type="application/json" id="data">${data}</script>
<script>${PAGE_SCRIPT}</script>
</body></html>
`
}

// The PNG, by Debian's headless Chromium; null when it is not installed (apt-get install chromium).
export async function screenshot (htmlPath: string, pngPath: string): Promise<string | null> {
  const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p))
  if (chromium === undefined) return null
  await run(chromium, [
    '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--force-device-scale-factor=1',
    `--screenshot=${resolve(pngPath)}`, '--window-size=1212,1240', '--virtual-time-budget=5000', `file://${resolve(htmlPath)}`
  ], { timeout: 120_000 })
  return existsSync(pngPath) && statSync(pngPath).size > 0 ? pngPath : null
}
