import t from 'tap'
import { request as httpRequest } from 'node:http'
import { startStack } from './helpers/stack.ts'

// The client's address as uWS reports it (workers/http.ts reads the raw bytes: IPv4, or IPv4-mapped IPv6 on a
// dual-stack socket), checked through what depends on it: each address has its own rate-limit budget. Loopback
// gives every 127.x.y.z address on Linux, so two clients with two addresses need no network.

const { app: server } = await startStack(t, { mode: 'cluster', workers: 1, env: { RATE_LIMIT_AUTH: '3' } })
const port = Number(new URL(server.url).port)

function checkPhone (from: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, localAddress: from, path: '/auth/check-phone?phone=%2B9647700000000', headers: { 'Doctor-Secret': 'dev-secret' }, agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end()
  })
}

t.test('each client address has its own budget', async (t) => {
  const first: number[] = []
  for (let i = 0; i < 5; i++) first.push(await checkPhone('127.0.0.2'))
  t.same(first.map((s) => s === 429), [false, false, false, true, true], '127.0.0.2: three pass, then 429')
  const second: number[] = []
  for (let i = 0; i < 4; i++) second.push(await checkPhone('127.0.0.3'))
  t.same(second.map((s) => s === 429), [false, false, false, true], '127.0.0.3 has its own three')
})
