import { log } from '../src/log.ts'
import type { Reply, Request } from './http.ts'

// One line per request at info: the request id, method, route pattern (never the path: ids and phone numbers stay
// out of the log), status, duration and worker. Past LOG_REQUESTS_PER_SECOND lines in a second a worker writes only
// the server errors and counts the rest, and its next line says how many it left out (`skipped`): a flood of
// requests does not become a flood of synchronous writes to stdout. 0 writes only the server errors.

export class RequestLog {
  private second = 0
  private written = 0
  private skipped = 0

  constructor (private readonly perSecond: number, private readonly worker: number) {}

  write (request: Request, reply: Reply, route: string, durationMs: number): void {
    if (!log.enabled('info')) return
    const now = Math.floor(Date.now() / 1000)
    if (now !== this.second) {
      this.second = now
      this.written = 0
    }
    if (this.written >= this.perSecond && reply.status < 500) {
      this.skipped++
      return
    }
    this.written++
    const fields: Record<string, unknown> = {
      request_id: request.id,
      method: request.method,
      route,
      status: reply.status,
      duration_ms: Math.round(durationMs * 100) / 100,
      worker: this.worker
    }
    if (this.skipped > 0) {
      fields.skipped = this.skipped
      this.skipped = 0
    }
    log.info('request', fields)
  }
}
