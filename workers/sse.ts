import { createHash } from 'node:crypto'
import type { Change, CachedResponse, SseStats } from '../src/ipc/messages.ts'
import { log, errorFields } from '../src/log.ts'
import type { Sink } from './http.ts'
import type { LaneView } from './lanes.ts'

// Live queue updates pushed, not polled (architecture.md §5). A worker keeps its subscribers per channel
// (`regular:7`); when the coordinator announces a change of that channel, the new state is rendered once (through
// the shared cache, so once per instance) and the same bytes are written to every subscriber. An idle subscriber
// costs a timer tick and nothing in the database.
//
// Frames keep the legacy names (legacy-api.md §3.9): `snapshot` first, `update` on change, `ping` heartbeats,
// `bye` at the timeout, `error`. Each data frame carries `id: <version>` so a reconnecting client's Last-Event-ID
// gets only what it missed, and `retry:` tells clients how long to wait before reconnecting.
//
// In AUTH_MODE=strict a patient subscriber gets its own view of each version (other patients' names and phones
// hidden, src/booking/patient-view.ts): every patient who owns no seat on the channel shares one hidden frame, an owner gets
// its own; secretaries and admins share the full frame. Legacy mode has no viewers and never parses a rendering.
//
// The same hub, as a second instance, carries the live queue of a day (workers/queues.ts): its channels are
// `regular:7:2026-11-30`, announced by the lane's changes (`regular:7`), and every subscriber has a view (now
// serving, a screen, one booking's place), each rendered once per version and sent only when its bytes changed.

export interface StreamParams<V = number> {
  heartbeatMs: number
  timeoutMs: number
  lastEventId: number | null
  // The days hub: the patient account a strict-mode patient stream is redacted for; null: the full view. The queue
  // hub: which view of the day the subscriber watches.
  viewer: V | null
  // What the subscriber was let in with, for a later recheck (a waiting-room screen's key digest): see endTagged.
  tag?: string
}

export interface HubOptions {
  // Days frames carry the legacy `hash` of their payload (legacy-api.md §3.9); queue frames are the JSON as it is.
  legacyHash: boolean
  // Send a subscriber a new version only when its view's bytes differ from what it was last sent (a phone watching
  // its place is not woken for a change behind it).
  skipUnchanged: boolean
}

// The legacy accepted any value; unbounded ones cost the server (a 0.001 s poll, a week-long timeout).
export const clamp = {
  heartbeatSeconds: (value: number | undefined) => Math.min(60, Math.max(5, value ?? 15)),
  timeoutSeconds: (value: number | undefined) => Math.min(3600, Math.max(10, value ?? 300))
}

const RETRY_MS = 3000
// uWS closes a connection that stays silent for ~10 s: an SSE comment keeps it open between heartbeats.
const KEEPALIVE_MS = 5000
// A subscriber that has not taken this much of what we sent is cut off (it reconnects with Last-Event-ID).
const MAX_BACKLOG = 1024 * 1024

interface Subscriber<V> {
  sink: Sink
  channel: string
  sentVersion: number
  nextPing: number
  nextKeepalive: number
  deadline: number
  heartbeatMs: number
  viewer: V | null
  showsEmpty: boolean // was last sent the empty lane (its last day closed or archived)
  lastPayload: Buffer | null
  tag: string | null
}

export type Renderer = (channel: string) => Promise<CachedResponse | null>
export type ViewRenderer<V = number> = (channel: string, state: CachedResponse, viewer: V) => LaneView

export class SseHub<V = number> {
  private readonly channels = new Map<string, Set<Subscriber<V>>>()
  // A change names a lane of a clinic (`regular:7`); the channels it makes stale: the lane's own on the days hub,
  // each watched day of it on the queue hub.
  private readonly byChange = new Map<string, Set<string>>()
  private readonly rendering = new Map<string, boolean>() // channel → another change arrived meanwhile
  private readonly timer: NodeJS.Timeout
  // Per channel with subscribers, the newest version a change announced: the id of the empty update, which has no
  // rendering to carry one.
  private readonly announced = new Map<string, number>()
  private counters = { framesSent: 0, cutOff: 0 }
  private total = 0
  private closed = false

  constructor (
    private readonly render: Renderer,
    private readonly viewOf: ViewRenderer<V>,
    private readonly options: HubOptions = { legacyHash: true, skipUnchanged: false }
  ) {
    this.timer = setInterval(() => this.tick(), 1000)
    this.timer.unref()
  }

  stats (): SseStats {
    return { subscribers: this.total, channels: this.channels.size, ...this.counters }
  }

  // The bytes of the payloads the hub keeps between pushes: each subscriber's last one, when unchanged views are
  // skipped (shared by the subscribers of a view, so counted once). A frame is otherwise built for the push or
  // snapshot that sends it, straight from the cached body, and let go: keeping every watched lane's current payload
  // held a second copy of each day's body per worker besides the cache's, growing with the day, and building the
  // payload, then the frame, made three buffers of the body per push (docs/BENCHMARKS.md, "Soaks W, X and Y"). A
  // snapshot builds its own (one SHA-1 over the body, tens of microseconds).
  heldBytes (): number {
    const held = new Set<Buffer>()
    for (const members of this.channels.values()) for (const { lastPayload } of members) if (lastPayload !== null) held.add(lastPayload)
    let bytes = 0
    for (const payload of held) bytes += payload.byteLength
    return bytes
  }

  // `notFound`: the lane's Arabic 404 detail, sent in an `error` frame (as legacy) when the clinic has no days.
  async subscribe (channel: string, sink: Sink, notFound: string, params: StreamParams<V>): Promise<void> {
    // A request that got past the drain check just before it began: tell it to reconnect elsewhere at once.
    if (this.closed) {
      sink.write('event: bye\ndata: shutdown\n\n')
      sink.end()
      return
    }
    const now = Date.now()
    const subscriber: Subscriber<V> = {
      sink,
      channel,
      sentVersion: params.lastEventId ?? -1,
      nextPing: now + params.heartbeatMs,
      nextKeepalive: now + KEEPALIVE_MS,
      deadline: now + params.timeoutMs,
      heartbeatMs: params.heartbeatMs,
      viewer: params.viewer,
      showsEmpty: false,
      lastPayload: null,
      tag: params.tag ?? null
    }
    let members = this.channels.get(channel)
    if (members === undefined) {
      this.channels.set(channel, members = new Set())
      const key = changeKeyOf(channel)
      let watched = this.byChange.get(key)
      if (watched === undefined) this.byChange.set(key, watched = new Set())
      watched.add(channel)
    }
    members.add(subscriber)
    this.total++
    sink.onClose(() => this.remove(subscriber))
    sink.write(`retry: ${RETRY_MS}\n\n`)
    try {
      const state = await this.render(channel)
      if (sink.closed) return
      if (state === null) {
        this.send(subscriber, `event: error\ndata: ${JSON.stringify({ error: `404: ${notFound}` })}\n\n`)
        sink.end()
        return
      }
      // A push that landed while the snapshot was rendering already sent something newer: the snapshot is stale.
      if (subscriber.sentVersion !== (params.lastEventId ?? -1) && subscriber.sentVersion >= state.version) return
      // A client resuming at the current version missed nothing; one resuming earlier gets the state as an update.
      if (state.version !== subscriber.sentVersion) {
        const name = params.lastEventId === null ? 'snapshot' : 'update'
        const { payload } = this.payloadOf(channel, state, subscriber.viewer)
        this.send(subscriber, this.frameOf(name, state.version, payload))
        subscriber.sentVersion = state.version
        if (this.options.skipUnchanged) subscriber.lastPayload = payload
      }
    } catch (error) {
      log.warn('SSE snapshot failed', errorFields(error))
      this.send(subscriber, `event: error\ndata: ${JSON.stringify({ error: error instanceof Error ? error.message : 'error' })}\n\n`)
      sink.end()
    }
  }

  // A committed change somewhere in the instance (or another instance): push it to this worker's subscribers.
  onChange (change: Change): void {
    const watched = this.byChange.get(`${change.topic}:${change.clinicId}`)
    if (watched === undefined) return
    for (const channel of watched) this.onChannelChange(channel, change.version)
  }

  private onChannelChange (channel: string, version: number): void {
    if (!this.channels.has(channel)) return
    if (version > (this.announced.get(channel) ?? 0)) this.announced.set(channel, version)
    if (this.rendering.has(channel)) {
      this.rendering.set(channel, true) // render again once the current render lands
      return
    }
    this.rendering.set(channel, false)
    void this.push(channel)
  }

  // After a reconnect to the coordinator (which may have restarted and missed changes meanwhile): every channel
  // with subscribers is rendered again, and whoever is behind gets the news.
  refreshAll (): void {
    for (const channel of this.channels.keys()) this.onChannelChange(channel, 0)
  }

  // Whether any subscriber on the change key's channels (`regular:7`) is tagged: a recheck has anything to look at.
  hasTagged (changeKey: string): boolean {
    return this.taggedOf(this.byChange.get(changeKey)).next().done !== true
  }

  // The change keys whose channels have tagged subscribers: what a recheck after a resync looks at.
  taggedChangeKeys (): string[] {
    return [...this.byChange.keys()].filter((key) => this.hasTagged(key))
  }

  // Ends, with `bye` and the reason, every subscriber on the change key's channels whose tag `keep` refuses (a screen
  // whose key was revoked). A client that reconnects is checked again by its route and refused there.
  endTagged (changeKey: string, keep: (tag: string) => boolean, reason: string): number {
    let ended = 0
    for (const subscriber of [...this.taggedOf(this.byChange.get(changeKey))]) {
      if (keep(subscriber.tag as string)) continue
      this.send(subscriber, `event: bye\ndata: ${reason}\n\n`)
      subscriber.sink.end()
      this.remove(subscriber)
      ended++
    }
    return ended
  }

  private * taggedOf (channels: Set<string> | undefined): Generator<Subscriber<V>> {
    for (const channel of channels ?? []) {
      for (const subscriber of this.channels.get(channel) ?? []) if (subscriber.tag !== null) yield subscriber
    }
  }

  // Draining: every subscriber gets `bye` and the connection ends, so clients reconnect to a live worker.
  closeAll (): void {
    this.closed = true
    clearInterval(this.timer)
    for (const members of this.channels.values()) {
      for (const subscriber of members) {
        this.send(subscriber, 'event: bye\ndata: shutdown\n\n')
        subscriber.sink.end()
      }
    }
  }

  private async push (channel: string): Promise<void> {
    try {
      const state = await this.render(channel)
      const members = this.channels.get(channel)
      if (state === null && members !== undefined) {
        this.pushEmpty(channel, members)
      } else if (state !== null && members !== undefined) {
        const built = new Map<string, Buffer>() // one frame per view, the same bytes to everyone who shares it
        for (const subscriber of members) {
          if (subscriber.sentVersion >= state.version) continue
          const { key, payload } = this.payloadOf(channel, state, subscriber.viewer)
          if (this.options.skipUnchanged) {
            if (subscriber.lastPayload !== null && (subscriber.lastPayload === payload || subscriber.lastPayload.equals(payload))) {
              subscriber.sentVersion = state.version
              continue
            }
            subscriber.lastPayload = payload
          }
          let frame = built.get(key)
          if (frame === undefined) built.set(key, frame = this.frameOf('update', state.version, payload))
          this.send(subscriber, frame)
          subscriber.sentVersion = state.version
          subscriber.showsEmpty = false
        }
      }
    } catch (error) {
      log.warn('SSE update render failed', errorFields(error))
    }
    const again = this.rendering.get(channel) === true
    this.rendering.delete(channel)
    if (again) this.onChannelChange(channel, 0)
  }

  // The lane's last day was closed or archived: there is no rendering (the JSON route answers 404), but a screen
  // showing the queue must not keep showing it. Every subscriber gets an update with no days, the same payload shape,
  // and stays subscribed: the next day created arrives as an update. (Legacy sent an update with {} when its
  // nightly run emptied the table, and an error frame when close_table deleted it.)
  private pushEmpty (channel: string, members: Set<Subscriber<V>>): void {
    const version = this.announced.get(channel) ?? 0
    const clinicId = Number(channel.split(':')[1])
    // Without a known version (a refresh after the coordinator came back) the frame goes without an id.
    const frame = this.frameOf('update', version > 0 ? version : null, Buffer.from(JSON.stringify({ clinic_id: clinicId, days: {} })))
    for (const subscriber of members) {
      if (subscriber.showsEmpty || (version > 0 && subscriber.sentVersion >= version)) continue
      this.send(subscriber, frame)
      subscriber.showsEmpty = true
      if (version > 0) subscriber.sentVersion = version
    }
  }

  // What a subscriber is sent of the version: its view, or the full one, which is the cached body itself (a view of
  // its bytes, not a copy).
  private payloadOf (channel: string, state: CachedResponse, viewer: V | null): { key: string, payload: Buffer } {
    const view = viewer === null ? null : this.viewOf(channel, state, viewer)
    return { key: view?.key ?? '', payload: view?.body ?? Buffer.from(state.body.buffer, state.body.byteOffset, state.body.byteLength) }
  }

  // One buffer: the frame's lines around the payload. On the days hub the payload is legacy's {"clinic_id", "days",
  // "hash"}: the hash of the body is spliced in before its closing brace, without parsing it again.
  private frameOf (name: string, version: number | null, payload: Buffer): Buffer {
    const head = Buffer.from(`event: ${name}\n${version === null ? '' : `id: ${version}\n`}data: `)
    if (!this.options.legacyHash) return Buffer.concat([head, payload, Buffer.from('\n\n')])
    const hash = createHash('sha1').update(payload).digest('hex')
    return Buffer.concat([head, payload.subarray(0, payload.length - 1), Buffer.from(`,"hash":"${hash}"}\n\n`)])
  }

  private send (subscriber: Subscriber<V>, frame: string | Buffer): void {
    if (subscriber.sink.closed) return
    subscriber.sink.write(frame)
    this.counters.framesSent++
    if (subscriber.sink.buffered() > MAX_BACKLOG) {
      this.counters.cutOff++
      // Not end(): a graceful end would queue behind the megabyte it has not read and keep the socket open.
      subscriber.sink.abort()
    }
  }

  private tick (): void {
    const now = Date.now()
    for (const members of this.channels.values()) {
      for (const subscriber of members) {
        if (now >= subscriber.deadline) {
          this.send(subscriber, 'event: bye\ndata: timeout\n\n')
          subscriber.sink.end()
        } else if (now >= subscriber.nextPing) {
          this.send(subscriber, `event: ping\ndata: {"ts": ${(now / 1000).toFixed(3)}}\n\n`)
          subscriber.nextPing = now + subscriber.heartbeatMs
          subscriber.nextKeepalive = now + KEEPALIVE_MS
        } else if (now >= subscriber.nextKeepalive) {
          subscriber.sink.write(': keep-alive\n\n')
          subscriber.nextKeepalive = now + KEEPALIVE_MS
        }
      }
    }
  }

  private remove (subscriber: Subscriber<V>): void {
    const members = this.channels.get(subscriber.channel)
    if (members?.delete(subscriber) === true) this.total--
    if (members !== undefined && members.size === 0) {
      this.channels.delete(subscriber.channel)
      const key = changeKeyOf(subscriber.channel)
      const watched = this.byChange.get(key)
      watched?.delete(subscriber.channel)
      if (watched?.size === 0) this.byChange.delete(key)
      this.announced.delete(subscriber.channel)
    }
  }
}

// `regular:7` of `regular:7` and of `regular:7:2026-11-30`.
function changeKeyOf (channel: string): string {
  const [topic, clinicId] = channel.split(':')
  return `${topic ?? ''}:${clinicId ?? ''}`
}
