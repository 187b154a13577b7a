import { Packr, Unpackr } from 'msgpackr'

// The wire between a worker and the coordinator: a stream of frames, each a 4-byte big-endian length followed by
// one msgpack value. Both ends keep one Packr/Unpackr per connection in msgpackr's sequential mode, so a record
// structure is sent once and referenced by later frames: the connection is the shared-structure scope, and a
// reconnect starts a fresh one on both sides.
export const enum Kind { Call = 0, Ok = 1, Fail = 2, Event = 3 }

// [kind, id, op, payload]: id 0 means "no reply wanted".
export type Message = [Kind, number, string, unknown]

//
// Memory (issue 16's soak: the coordinator's RSS grew while its JS heap did not). Left to itself, msgpackr packs
// every message into one buffer shared by the whole process and returns a view of it; when a message does not fit,
// it allocates a new one of 4× that message's size, and every buffer it allocates after that is as large, for the
// life of the process. One cached response of 124 KB made every later rate-limit reply a view of a 488 KB
// allocation, freed only when the garbage collector got to the last view; as the day's bookings made the cached
// bodies grow, that size grew too, so each new generation of these buffers fitted in none of the holes the last one
// left in the C heap. So each codec packs into a scratch buffer of its own, reused for every message, and hands out
// an exact copy: nothing transient is larger than the message itself, and the scratch buffer grows only when a
// message outgrows it. On the other side, msgpackr returns binary values as views of the frame they came in (a
// socket read of up to 64 KB, or several joined): a cached body kept for minutes pinned all of it. Binary values are
// copied out instead; they are the cached responses, which are kept anyway.
export const PACK_SCRATCH_BYTES = 16 * 1024

export function codec (): { pack: (message: Message) => Buffer, unpack: (bytes: Buffer) => Message } {
  const packr = new Packr({ sequential: true, useRecords: true })
  const unpackr = new Unpackr({ sequential: true, useRecords: true, copyBuffers: true })
  let scratch = Buffer.allocUnsafeSlow(PACK_SCRATCH_BYTES)
  return {
    pack: (message) => {
      packr.useBuffer(scratch)
      const packed = packr.pack(message)
      // Outgrown: msgpackr packed it into a buffer of its own. The next message this large fits in the scratch.
      if (packed.buffer !== scratch.buffer) scratch = Buffer.allocUnsafeSlow(Math.ceil(packed.length * 1.25 / 4096) * 4096)
      return Buffer.from(packed)
    },
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

// Accumulates socket chunks and yields whole frames; a frame may span chunks and a chunk may carry many frames. The
// pieces of an unfinished frame are kept apart and joined once, when the frame is complete: joining at every chunk
// copied a frame of n chunks n times over, into a larger buffer each time.
export class FrameReader {
  private pieces: Buffer[] = []
  private buffered = 0
  private needed = 4 // bytes to have before the next frame can be read: its length, then the whole frame

  push (chunk: Buffer, onFrame: (payload: Buffer) => void): void {
    this.pieces.push(chunk)
    this.buffered += chunk.length
    if (this.buffered < this.needed) return
    const buffer = this.pieces.length === 1 ? chunk : Buffer.concat(this.pieces, this.buffered)
    this.needed = 4
    let offset = 0
    while (buffer.length - offset >= 4) {
      const length = buffer.readUInt32BE(offset)
      if (length > MAX_FRAME) throw new Error(`IPC frame of ${length} bytes exceeds ${MAX_FRAME}`)
      if (buffer.length - offset - 4 < length) {
        this.needed = 4 + length
        break
      }
      onFrame(buffer.subarray(offset + 4, offset + 4 + length))
      offset += 4 + length
    }
    // Keep a copy only of the unfinished tail, so a large chunk is not pinned by a few leftover bytes.
    this.pieces = offset === buffer.length ? [] : [Buffer.from(buffer.subarray(offset))]
    this.buffered = buffer.length - offset
  }
}
