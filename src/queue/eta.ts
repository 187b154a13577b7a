import type { ServiceEstimate } from './state.ts'

// The expected time per patient, from the clinic's own history: the gaps between consecutive calls (in_progress or
// served) of a day are its service times. Plain functions over plain data, so the estimator is tested on synthetic
// histories whose true service time is known (test/queue-eta.test.ts states the bound it holds).
//
// Robust by construction:
// - the first patient of a day has no predecessor, so the doctor's arrival never counts as a service time;
// - a gap longer than MAX_GAP_MINUTES is a break (prayer, lunch, an emergency), not a patient, and is dropped; so
//   is one shorter than MIN_GAP_MINUTES (two clicks for one patient);
// - what remains is trimmed by TRIM at each end and its median taken, so the breaks under the cut-off, a long case,
//   or a run of no-shows called in quick succession move the figure little. The range shown to the patient runs from
//   the 25th to the 90th percentile of the same sample: lopsided on purpose, since a wait runs long (a break, a
//   long case) far more often than short (measured in test/queue-eta.test.ts: with the interquartile range the
//   actual wait fell inside it 46 % of the time, with this one 62 %).

export const MIN_GAP_MINUTES = 0.5
export const MAX_GAP_MINUTES = 90
export const TRIM = 0.1
// The range's ends, as quantiles of the trimmed gaps (see above).
export const LOW_Q = 0.25
export const HIGH_Q = 0.9
// Fewer gaps than this say little: the weekday's figure falls back to the clinic's, and that to the default.
export const MIN_SAMPLES = 8
// How far back the history reaches: recent enough to follow a doctor who got faster, long enough for each weekday.
export const HISTORY_DAYS = 56

export interface CalledDay {
  weekday: number // 0 = Sunday … 6
  calls: number[] // ms since the epoch, one per booking called in that day (both lanes: one doctor)
}

/** The service times (minutes) of one day's calls: consecutive gaps, breaks and double clicks left out. */
export function serviceGaps (calls: readonly number[]): number[] {
  const sorted = [...calls].sort((a, b) => a - b)
  const gaps: number[] = []
  for (let i = 1; i < sorted.length; i++) {
    const minutes = ((sorted[i] as number) - (sorted[i - 1] as number)) / 60_000
    if (minutes >= MIN_GAP_MINUTES && minutes <= MAX_GAP_MINUTES) gaps.push(minutes)
  }
  return gaps
}

function quantile (sorted: readonly number[], q: number): number {
  const at = (sorted.length - 1) * q
  const below = Math.floor(at)
  const above = Math.ceil(at)
  const a = sorted[below] as number
  const b = sorted[above] as number
  return a + (b - a) * (at - below)
}

export interface Figure {
  minutes: number
  low: number
  high: number
  samples: number
}

/** The trimmed median of some gaps and the range around it, or null when there are too few to say anything. */
export function figureOf (gaps: readonly number[]): Figure | null {
  if (gaps.length < MIN_SAMPLES) return null
  const sorted = [...gaps].sort((a, b) => a - b)
  const cut = Math.floor(sorted.length * TRIM)
  const kept = sorted.slice(cut, sorted.length - cut)
  const round = (n: number): number => Math.round(n * 100) / 100
  return { minutes: round(quantile(kept, 0.5)), low: round(quantile(kept, LOW_Q)), high: round(quantile(kept, HIGH_Q)), samples: gaps.length }
}

/** A clinic's figures: one per weekday with enough samples, and the overall one (key -1) when it has enough. */
export function clinicFigures (days: readonly CalledDay[]): Map<number, Figure> {
  const byWeekday = new Map<number, number[]>()
  const all: number[] = []
  for (const day of days) {
    const gaps = serviceGaps(day.calls)
    all.push(...gaps)
    let list = byWeekday.get(day.weekday)
    if (list === undefined) byWeekday.set(day.weekday, list = [])
    list.push(...gaps)
  }
  const figures = new Map<number, Figure>()
  for (const [weekday, gaps] of byWeekday) {
    const figure = figureOf(gaps)
    if (figure !== null) figures.set(weekday, figure)
  }
  const overall = figureOf(all)
  if (overall !== null) figures.set(-1, overall)
  return figures
}

/** The weekday's figure, else the clinic's overall one, else the configured default (±50 %). */
export function estimateFor (weekday: Figure | undefined, overall: Figure | undefined, defaultMinutes: number): ServiceEstimate {
  if (weekday !== undefined) return { minutes: weekday.minutes, low: weekday.low, high: weekday.high, source: 'weekday' }
  if (overall !== undefined) return { minutes: overall.minutes, low: overall.low, high: overall.high, source: 'clinic' }
  return { minutes: defaultMinutes, low: defaultMinutes / 2, high: defaultMinutes * 1.5, source: 'default' }
}
