import type { Database } from '../src/db/pool.ts'
import { liveDisplayDigests } from '../src/queue/display-keys.ts'
import { log, errorFields } from '../src/log.ts'
import type { QueueViewName } from './queues.ts'
import type { SseHub } from './sse.ts'

// Waiting-room screens stop when their key is revoked (issue 15.4), not only at their next reconnect: a screen's
// stream is tagged with its key's digest, and a `display` change of the clinic (the revoke route publishes it; other
// instances hear it by NOTIFY) makes each worker read the clinic's live keys once — only when it holds screens of
// that clinic — and end the streams whose key is no longer among them. After a resync (changes may have been missed)
// every clinic with screens here is checked again.

export class ScreenGuard {
  constructor (private readonly db: Database, private readonly hub: SseHub<QueueViewName>) {}

  async recheck (clinicId: number): Promise<number> {
    const changeKey = `regular:${clinicId}`
    if (!this.hub.hasTagged(changeKey)) return 0
    try {
      const live = await this.db.run((sql) => liveDisplayDigests(sql, clinicId))
      return this.hub.endTagged(changeKey, (tag) => live.has(tag), 'revoked')
    } catch (error) {
      // The database is away: the screens keep what they show; the next recheck (a resync follows the database's
      // return) or their reconnect settles it.
      log.warn('screen key recheck failed', { clinicId, ...errorFields(error) })
      return 0
    }
  }

  recheckAll (): void {
    for (const key of this.hub.taggedChangeKeys()) void this.recheck(Number(key.split(':')[1]))
  }
}
