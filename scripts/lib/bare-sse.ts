// The baseline for scripts/bench-sse-swarm.ts: the least a uWebSockets.js cluster can do to fan one frame out to N
// SSE subscribers, with the same shape as the real server: a primary that forks BARE_WORKERS processes (the same
// native build the workers load through src/uws.ts) sharing one port through SO_REUSEPORT, so the kernel spreads
// the subscribers over them as it does over the workers. Any GET is a subscription: the SSE headers the real server
// sends, a `retry` line and an `event: snapshot` frame, then the response is kept in memory. Any POST is a change:
// its body is the frame. The process the POST lands on hands it to the primary, which relays it to every process, the
// sender included, as the real server's coordinator does with a published change (over a pipe instead of a Unix
// socket): so the relay hop is in the first delivery of both servers, and the spread (p99 − first) compares the
// fan-out alone. Each process writes the frame to each of its subscribers, one corked write each. No routing, no
// auth, no rendering.
//
//   node --import tsx scripts/lib/bare-sse.ts   (env BARE_PORT, BARE_WORKERS; sends 'ready' with the pids when listening)
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { loadUws, type HttpResponse, type ListenSocket } from '../../src/uws.ts'

const port = Number(process.env.BARE_PORT)
const workerCount = Number(process.env.BARE_WORKERS ?? 2)

interface Relay { frame: string }

if (process.env.BARE_ROLE === 'worker') worker()
else primary()

function primary (): void {
  const children: ChildProcess[] = []
  let ready = 0
  const stop = (): void => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM')
    process.exit(0)
  }
  for (let i = 0; i < workerCount; i++) {
    const child = fork(fileURLToPath(import.meta.url), [], {
      execArgv: process.execArgv,
      env: { ...process.env, BARE_ROLE: 'worker' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc']
    })
    children.push(child)
    child.once('exit', (code) => {
      console.error(`bare SSE worker ${i} exited with ${code}`)
      stop()
    })
    child.on('message', (message: 'ready' | Relay | { subscribers: number }) => {
      if (message === 'ready') {
        if (++ready === workerCount) process.send?.({ ready: true, pids: [process.pid, ...children.map((c) => c.pid)] })
      } else if ('frame' in message) {
        for (const each of children) each.send(message)
      } else {
        process.send?.({ worker: i, subscribers: message.subscribers })
      }
    })
  }
  process.on('message', (message: string) => {
    if (message === 'count') for (const child of children) child.send('count')
  })
  process.on('SIGTERM', stop)
  process.on('disconnect', stop)
}

function worker (): void {
  const { uws } = loadUws()
  const subscribers = new Set<HttpResponse>()
  const fanOut = (frame: Buffer): void => {
    for (const res of subscribers) res.cork(() => { res.write(frame) })
  }

  const app = uws.App()
  app.get('/*', (res) => {
    res.onAborted(() => { subscribers.delete(res) })
    res.cork(() => {
      res.writeStatus('200 OK')
      res.writeHeader('Content-Type', 'text/event-stream')
      res.writeHeader('Cache-Control', 'no-cache')
      res.writeHeader('X-Accel-Buffering', 'no')
      res.write('retry: 3000\n\n')
      res.write('event: snapshot\ndata: {}\n\n')
    })
    subscribers.add(res)
  })
  app.post('/*', (res) => {
    const chunks: Buffer[] = []
    res.onAborted(() => { chunks.length = 0 })
    res.onData((chunk, last) => {
      // uWS reuses the chunk's memory once this callback returns.
      chunks.push(Buffer.from(chunk.slice(0)))
      if (!last) return
      process.send?.({ frame: Buffer.concat(chunks).toString('latin1') } satisfies Relay)
      res.cork(() => { res.end('ok') })
    })
  })

  let listening: ListenSocket | null = null
  app.listen('127.0.0.1', port, (socket) => {
    if (socket === false) {
      console.error(`bare SSE: could not listen on ${port}`)
      process.exit(1)
    }
    listening = socket
    process.send?.('ready')
  })
  process.on('message', (message: Relay | 'count') => {
    if (message === 'count') process.send?.({ subscribers: subscribers.size })
    else fanOut(Buffer.from(message.frame, 'latin1'))
  })

  const stop = (): void => {
    if (listening !== null) uws.us_listen_socket_close(listening)
    process.exit(0)
  }
  process.on('SIGTERM', stop)
  process.on('disconnect', stop)
}
