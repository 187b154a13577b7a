// The baseline for scripts/bench-cached-read.ts: a bare uWebSockets.js server (the same native build the workers
// load through src/uws.ts) answering every GET with bytes given to it: the identity body, or the gzip body when the
// request accepts gzip, with the headers the real server sends for a cached read. Nothing else: no routing, no rate
// limit, no cache lookup. The runner forks as many of these as the real server has workers; they share the port
// through SO_REUSEPORT, as the workers do.
//
//   node --import tsx scripts/lib/bare-uws.ts   (env BARE_PORT, BARE_BODY, BARE_GZIP: paths of the two bodies, BARE_ETAG)
import { readFileSync } from 'node:fs'
import { loadUws, type ListenSocket } from '../../src/uws.ts'

const port = Number(process.env.BARE_PORT)
const body = readFileSync(process.env.BARE_BODY ?? '')
const gzipped = readFileSync(process.env.BARE_GZIP ?? '')
const etag = process.env.BARE_ETAG ?? '"bare"'

const { uws } = loadUws()
const app = uws.App()
app.get('/*', (res, req) => {
  const gzip = /\bgzip\b/.test(req.getHeader('accept-encoding'))
  res.cork(() => {
    res.writeStatus('200 OK')
    res.writeHeader('ETag', etag)
    res.writeHeader('Cache-Control', 'no-cache')
    res.writeHeader('Vary', 'Accept-Encoding')
    res.writeHeader('Content-Type', 'application/json; charset=utf-8')
    if (gzip) res.writeHeader('Content-Encoding', 'gzip')
    res.end(gzip ? gzipped : body)
  })
})

let listening: ListenSocket | null = null
app.listen('127.0.0.1', port, (socket) => {
  if (socket === false) {
    console.error(`bare uWS: could not listen on ${port}`)
    process.exit(1)
  }
  listening = socket
  process.send?.('ready')
})

const stop = (): void => {
  if (listening !== null) uws.us_listen_socket_close(listening)
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('disconnect', stop)
