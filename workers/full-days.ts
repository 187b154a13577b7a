import type { Change, FullDay } from '../src/ipc/messages.ts'
import { addDays, iraqToday } from '../src/domain/calendar.ts'
import { bookingErrors, errors, type ApiError } from '../src/errors.ts'
import type { CoordinatorClient } from './coordinator-client.ts'

// Days this instance knows to be full, so that a patient-app booking for one is refused from memory (the legacy
// 409) instead of queueing for a connection and a transaction that can only say the same. In a morning rush 2,000
// phones book a 20-seat day at once: the 1,980 losers would otherwise wait for the pool behind each other and many
// get a 503 instead of their 409.
//
// A fact is "this day was full as of lane version v": learned from the booking that took its last seat (the version
// its own transaction bumped, so state and version are the same commit), or from a booking the database refused as
// full (the day and the lane's version read by one statement, src/booking/seats.ts: in a rush the lane keeps
// changing — walk-ins, calls, other days — and each change drops the fact, so the next refusal must teach it again),
// and shared with the other workers through the coordinator. It is never wrong in the other direction: every write to a lane bumps its version, and any change
// of the lane newer than v (a cancellation, a new capacity, another day's booking alike) drops the lane's facts; a
// fact that arrives after a newer change was heard is not kept. Changes of this instance reach every worker before
// the write's 200 (coordinator/start.ts); other instances' come through PostgreSQL's NOTIFY. While the coordinator's
// socket is down no fact is used (a change could be missed), and a reconnect or resync forgets them all.

const MAX_FACTS = 10_000
// Bookings of one day this worker lets run at once; the others wait here, not in the pool's queue. They would only
// queue on the day row's lock (one transaction at a time takes a seat), holding connections every other clinic needs,
// and time out there (503) before the day fills; waiting here, they are refused from memory the moment it does.
// A few in flight keep the row busy; more only lengthen the lock queue (docs/BENCHMARKS.md, the hot day).
const PER_DAY = 3

interface Gate {
  running: number
  waiting: Array<{ go: () => void, timer: NodeJS.Timeout }>
}

interface Fact extends FullDay {
  until: number // performance.now() time; a bound on trusting a fact whose lane has gone quiet
}

const laneOf = (clinicId: number, lane: string): string => `${lane}:${clinicId}`

export class FullDays {
  private readonly latest = new Map<string, number>()
  private readonly facts = new Map<string, Fact>()
  private readonly gates = new Map<string, Gate>()
  counters = { refusals: 0, learned: 0, gateWaits: 0, gateTimeouts: 0 }

  constructor (private readonly coordinator: CoordinatorClient, private readonly options: { enabled: boolean, ttlMs: number, horizonDays: number, waitMs: number }) {}

  // Runs a booking of the day when one of its PER_DAY places is free; a booking that waited longer than `waitMs`
  // is answered 503 without having begun (as one that waited for the pool too long).
  async gate<T> (clinicId: number, lane: 'regular' | 'golden', date: string, work: () => Promise<T>): Promise<T> {
    if (!this.options.enabled) return await work()
    const key = `${laneOf(clinicId, lane)}:${date}`
    let gate = this.gates.get(key)
    if (gate === undefined) this.gates.set(key, (gate = { running: 0, waiting: [] }))
    if (gate.running >= PER_DAY) {
      this.counters.gateWaits++
      const current = gate
      await new Promise<void>((resolve, reject) => {
        const waiter = {
          go: () => { clearTimeout(waiter.timer); resolve() },
          timer: setTimeout(() => {
            const index = current.waiting.indexOf(waiter)
            if (index >= 0) current.waiting.splice(index, 1)
            this.counters.gateTimeouts++
            reject(errors.databaseBusy())
          }, this.options.waitMs)
        }
        current.waiting.push(waiter)
      })
    } else {
      gate.running++
    }
    try {
      return await work()
    } finally {
      // The place passes straight to the next waiter (running stays counted), or is given back.
      const next = gate.waiting.shift()
      if (next !== undefined) next.go()
      else if (--gate.running === 0) this.gates.delete(key)
    }
  }

  // The 409 for a patient-app booking of `date`, when the day is known full; null when the database must decide.
  // Only within the dates the patient app may book: a date outside them has its own refusal, the database path's.
  refusal (clinicId: number, lane: 'regular' | 'golden', date: string): ApiError | null {
    if (!this.options.enabled || !this.coordinator.connected) return null
    const key = `${laneOf(clinicId, lane)}:${date}`
    const fact = this.facts.get(key)
    if (fact === undefined) return null
    const today = iraqToday()
    if ((this.latest.get(laneOf(clinicId, lane)) ?? 0) > fact.version || performance.now() >= fact.until || date < today || date > addDays(today, this.options.horizonDays)) {
      this.facts.delete(key)
      return null
    }
    this.counters.refusals++
    return bookingErrors.dayFull(date, fact.active, fact.capacity)
  }

  // A booking took the day's last seat: remember it here and tell the other workers.
  learn (fact: FullDay): void {
    if (this.keep(fact)) this.coordinator.notify('days.full', fact)
  }

  // Another worker's fact.
  keep (fact: FullDay): boolean {
    if (!this.options.enabled) return false
    if ((this.latest.get(laneOf(fact.clinicId, fact.lane)) ?? 0) > fact.version) return false
    if (this.facts.size >= MAX_FACTS) this.sweep()
    if (this.facts.size >= MAX_FACTS) return false
    this.facts.set(`${laneOf(fact.clinicId, fact.lane)}:${fact.date}`, { ...fact, until: performance.now() + this.options.ttlMs })
    this.counters.learned++
    return true
  }

  onChange (change: Change): void {
    if (change.topic === 'regular' || change.topic === 'golden') {
      const lane = laneOf(change.clinicId, change.topic)
      if (change.version > (this.latest.get(lane) ?? 0)) this.latest.set(lane, change.version)
      for (const [key, fact] of this.facts) if (fact.clinicId === change.clinicId && fact.lane === change.topic && fact.version < change.version) this.facts.delete(key)
    } else if (change.topic === 'clinic') {
      // The clinic's own rules (active, bookable) come before a full day in the database path's answer.
      for (const [key, fact] of this.facts) if (fact.clinicId === change.clinicId) this.facts.delete(key)
    }
  }

  forgetAll (): void {
    this.facts.clear()
  }

  private sweep (): void {
    const now = performance.now()
    for (const [key, fact] of this.facts) if (now >= fact.until) this.facts.delete(key)
  }
}
