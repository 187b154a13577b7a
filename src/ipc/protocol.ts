import { Packr, Unpackr } from 'msgpackr'

// The wire between a worker and the coordinator: a stream of frames, each a 4-byte big-endian length followed by
// one msgpack value. Both ends keep one Packr/Unpackr per connection in msgpackr's sequential mode, so a record
// structure is sent once and referenced by later frames: the connection is the shared-structure scope, and a
// reconnect starts a fresh one on both sides.
export const enum Kind { Call = 0, Ok = 1, Fail = 2, Event = 3 }

// [kind, id, op, payload]: id 0 means "no reply wanted".
export type Message = [Kind, number, string, unknown]

export function codec (): { pack: (message: Message) => Buffer, unpack: (bytes: Buffer) => Message } {
  const packr = new Packr({ sequential: true, useRecords: true })
  const unpackr = new Unpackr({ sequential: true, useRecords: true })
  return {
    pack: (message) => packr.pack(message),
    unpack: (bytes) => unpackr.unpack(bytes) as Message
  }
}

// Frames many messages into one buffer: calls made in one event-loop turn leave in one write.
export function frame (payloads: Buffer[]): Buffer {
  let total = 0
  for (const payload of payloads) total += 4 + payload.length
  const out = Buffer.allocUnsafe(total)
  let offset = 0
  for (const payload of payloads) {
    out.writeUInt32BE(payload.length, offset)
    payload.copy(out, offset + 4)
    offset += 4 + payload.length
  }
  return out
}

// Messages queued in one turn leave in one write: the owner decides when "the turn" ends (`schedule`) and where the
// bytes go (`write`). One outbox per connection, since it packs with the connection's codec.
export class Outbox {
  private queue: Buffer[] = []
  private scheduled = false

  constructor (
    private readonly pack: (message: Message) => Buffer,
    private readonly write: (bytes: Buffer) => void,
    private readonly schedule: (flush: () => void) => void
  ) {}

  push (message: Message): void {
    this.queue.push(this.pack(message))
    if (this.scheduled) return
    this.scheduled = true
    this.schedule(() => {
      this.scheduled = false
      const batch = this.queue
      this.queue = []
      if (batch.length > 0) this.write(frame(batch))
    })
  }
}

const MAX_FRAME = 64 * 1024 * 1024

// Accumulates socket chunks and yields whole frames; a frame may span chunks and a chunk may carry many frames.
export class FrameReader {
  private pending: Buffer = Buffer.alloc(0)

  push (chunk: Buffer, onFrame: (payload: Buffer) => void): void {
    let buffer = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk])
    let offset = 0
    while (buffer.length - offset >= 4) {
      const length = buffer.readUInt32BE(offset)
      if (length > MAX_FRAME) throw new Error(`IPC frame of ${length} bytes exceeds ${MAX_FRAME}`)
      if (buffer.length - offset - 4 < length) break
      onFrame(buffer.subarray(offset + 4, offset + 4 + length))
      offset += 4 + length
    }
    buffer = buffer.subarray(offset)
    // Keep a copy only of the unfinished tail, so a large chunk is not pinned by a few leftover bytes.
    this.pending = buffer.length === 0 ? Buffer.alloc(0) : Buffer.from(buffer)
  }
}
