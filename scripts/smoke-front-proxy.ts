// After a deploy (not a CI step): does the host's front proxy answer what the engine cannot? uWebSockets.js 20.30
// leaves HTTP/1.0 requests and header names with `_` unanswered and closes async-pipelined connections, so the
// deployment requires a proxy that speaks HTTP/1.1 to the API, one request at a time, and never forwards such names
// (README, "Deploying"). On Render that proxy is Render's; this checks it from outside:
//
//   npx tsx scripts/smoke-front-proxy.ts https://tabeby-api.onrender.com [path, default /healthz]
//
// Four probes over raw connections (TLS for https): a plain HTTP/1.1 request (the control), HTTP/1.0, two
// pipelined requests in one write, and a request with an `X_Custom` header. Each must be answered within the wait
// (15 s; the engine's silence ends at ~10 s, which the proxy turns into a 502 or 504). It exits 1 when one is not,
// naming it: the proxy then passes through what the engine cannot serve, and the requirement is not met there.
import { connect as tcp, type Socket } from 'node:net'
import { connect as tls } from 'node:tls'
import { pathToFileURL } from 'node:url'

export interface Probe {
  name: string
  ok: boolean
  detail: string
}

function exchange (base: URL, raw: string, waitMs: number): Promise<{ text: string, ms: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now()
    const port = Number(base.port !== '' ? base.port : base.protocol === 'https:' ? 443 : 80)
    const socket: Socket = base.protocol === 'https:'
      ? tls({ host: base.hostname, port, servername: base.hostname, ALPNProtocols: ['http/1.1'] })
      : tcp(port, base.hostname)
    let text = ''
    const done = (): void => {
      clearTimeout(timer)
      socket.destroy()
      resolve({ text, ms: Date.now() - started })
    }
    const timer = setTimeout(done, waitMs)
    socket.once(base.protocol === 'https:' ? 'secureConnect' : 'connect', () => socket.write(raw))
    socket.on('data', (chunk: Buffer) => { text += chunk.toString('latin1') })
    socket.on('end', done)
    socket.on('error', (error) => { clearTimeout(timer); reject(error) })
  })
}

const statuses = (text: string): number[] => [...text.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((m) => Number(m[1]))

export async function smoke (baseUrl: string, path = '/healthz', waitMs = 15_000): Promise<Probe[]> {
  const base = new URL(baseUrl)
  const host = base.host
  const request = (version: string, extra = ''): string => `GET ${path} ${version}\r\nHost: ${host}\r\n${extra}`
  const probes: Array<[string, string, (codes: number[]) => boolean]> = [
    ['HTTP/1.1 (control)', request('HTTP/1.1', 'Connection: close\r\n\r\n'), (codes) => codes.length === 1 && codes[0] === 200],
    ['HTTP/1.0', request('HTTP/1.0', '\r\n'), (codes) => codes.length === 1 && codes[0] === 200],
    ['two pipelined requests', request('HTTP/1.1', '\r\n') + request('HTTP/1.1', 'Connection: close\r\n\r\n'),
      (codes) => codes.length === 2 && codes.every((code) => code === 200)],
    ['an X_Custom header', request('HTTP/1.1', 'X_Custom: 1\r\nConnection: close\r\n\r\n'), (codes) => codes.length === 1 && codes[0] === 200]
  ]
  const results: Probe[] = []
  for (const [name, raw, good] of probes) {
    try {
      const { text, ms } = await exchange(base, raw, waitMs)
      const codes = statuses(text)
      results.push({ name, ok: good(codes), detail: `${codes.length === 0 ? 'no answer' : codes.join(', ')} after ${ms} ms` })
    } catch (error) {
      results.push({ name, ok: false, detail: (error as Error).message })
    }
  }
  return results
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [baseUrl, path] = process.argv.slice(2)
  if (baseUrl === undefined) {
    console.error('usage: npx tsx scripts/smoke-front-proxy.ts <base URL, e.g. https://api.example.com> [path]')
    process.exit(2)
  }
  const results = await smoke(baseUrl, path)
  for (const probe of results) console.log(`${probe.ok ? 'ok  ' : 'FAIL'} ${probe.name}: ${probe.detail}`)
  const failed = results.filter((probe) => !probe.ok)
  if (failed.length > 0) {
    console.log(`${failed.length} probe(s) failed: the front proxy passes on what uWebSockets.js 20.30 cannot answer (README, "Deploying")`)
    process.exit(1)
  }
}
