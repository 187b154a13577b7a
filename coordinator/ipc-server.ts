import { createServer, type Server, type Socket } from 'node:net'
import { rmSync } from 'node:fs'
import { codec, FrameReader, Kind, Outbox, type Message } from '../src/ipc/protocol.ts'
import type { EventName, Events, OpName, Ops } from '../src/ipc/messages.ts'

export class Peer {
  worker: { id: number, pid: number } | null = null
  private readonly wire = codec()
  // Writes handed to the socket whose callback has not run yet, and who waits for them all to be done.
  private unflushed = 0
  private waiting: Array<() => void> = []
  // Replies to the calls of one read (a burst of rate-limit checks, say) leave in one write, as soon as that read
  // has been handled: a microtask, not the next loop phase, since the worker's request is waiting.
  private readonly outbox = new Outbox(this.wire.pack, (bytes) => {
    if (this.socket.destroyed) return
    this.unflushed++
    this.socket.write(bytes, () => {
      if (--this.unflushed === 0) this.release()
    })
  }, queueMicrotask)

  constructor (readonly socket: Socket) {}

  send (message: Message): void {
    this.outbox.push(message)
  }

  // Resolves once everything sent to this peer so far has been handed to the kernel: bytes still queued in this
  // process could reach the worker after something the caller is about to allow (a write's 200). Counted by the
  // writes' own callbacks: 'drain' is emitted only after a write that found the buffer full, so a wait on it for a
  // few queued bytes never ended (each stuck wait held its listeners, and the worker's call timed out).
  async written (): Promise<void> {
    await Promise.resolve() // the outbox flushes in a microtask queued before this one
    if (this.socket.destroyed || this.unflushed === 0) return
    await new Promise<void>((resolve) => { this.waiting.push(resolve) })
  }

  // The socket closed: nothing more will be written, and nobody waits for it.
  closed (): void {
    this.unflushed = 0
    this.release()
  }

  private release (): void {
    const waiting = this.waiting
    this.waiting = []
    for (const resolve of waiting) resolve()
  }

  unpack (payload: Buffer): Message {
    return this.wire.unpack(payload)
  }
}

export type Handlers = {
  [K in OpName]: (request: Ops[K]['req'], peer: Peer) => Ops[K]['res'] | Promise<Ops[K]['res']>
}

export class IpcServer {
  readonly peers = new Set<Peer>()
  onDisconnect: (peer: Peer) => void = () => {}
  private readonly server: Server

  constructor (private readonly socketPath: string, private readonly handlers: Handlers) {
    this.server = createServer((socket) => this.accept(socket))
  }

  listen (): Promise<void> {
    rmSync(this.socketPath, { force: true }) // a coordinator that was SIGKILLed leaves its socket file behind
    return new Promise((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(this.socketPath, () => resolve())
    })
  }

  broadcast<E extends EventName> (name: E, payload: Events[E]): void {
    for (const peer of this.peers) peer.send([Kind.Event, 0, name, payload])
  }

  close (): void {
    for (const peer of this.peers) peer.socket.destroy()
    this.server.close()
    rmSync(this.socketPath, { force: true })
  }

  private accept (socket: Socket): void {
    const peer = new Peer(socket)
    const reader = new FrameReader()
    this.peers.add(peer)
    socket.on('data', (chunk) => {
      try {
        reader.push(chunk, (payload) => this.dispatch(peer, peer.unpack(payload)))
      } catch (error) {
        socket.destroy(error instanceof Error ? error : new Error(String(error)))
      }
    })
    socket.on('error', () => { /* 'close' follows */ })
    socket.on('close', () => {
      peer.closed()
      this.peers.delete(peer)
      this.onDisconnect(peer)
    })
  }

  private dispatch (peer: Peer, [kind, id, op, payload]: Message): void {
    if (kind !== Kind.Call) return
    const handler = this.handlers[op as OpName] as ((request: unknown, peer: Peer) => unknown) | undefined
    if (handler === undefined) {
      if (id !== 0) peer.send([Kind.Fail, id, op, `unknown op ${op}`])
      return
    }
    let result: unknown
    try {
      result = handler(payload, peer)
    } catch (error) {
      if (id !== 0) peer.send([Kind.Fail, id, op, error instanceof Error ? error.message : String(error)])
      return
    }
    if (result instanceof Promise) {
      result.then(
        (value: unknown) => { if (id !== 0) peer.send([Kind.Ok, id, op, value ?? null]) },
        (error: unknown) => { if (id !== 0) peer.send([Kind.Fail, id, op, error instanceof Error ? error.message : String(error)]) }
      )
    } else if (id !== 0) {
      peer.send([Kind.Ok, id, op, result ?? null])
    }
  }
}
