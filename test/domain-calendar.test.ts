import t from 'tap'
import {
  addDays,
  compactDate,
  iraqToday,
  isIsoDate,
  parseDayMonthYear,
  utcIso,
  weekdayOf,
} from '../src/domain/calendar.ts'

t.test('today in Iraq turns over at 21:00 UTC (midnight in Baghdad)', async (t) => {
  t.equal(iraqToday(new Date('2025-11-13T20:59:59.999Z')), '2025-11-13')
  t.equal(iraqToday(new Date('2025-11-13T21:00:00.000Z')), '2025-11-14')
  t.equal(iraqToday(new Date('2025-12-31T22:30:00Z')), '2026-01-01', 'new year arrives three hours early')
  t.equal(iraqToday(new Date('2025-07-01T12:00:00Z')), '2025-07-01', 'no daylight saving in summer')
  t.match(iraqToday(), /^\d{4}-\d{2}-\d{2}$/, 'defaults to now')
})

t.test('only real YYYY-MM-DD dates are accepted', async (t) => {
  t.ok(isIsoDate('2025-11-14'))
  t.ok(isIsoDate('2024-02-29'), 'leap day in a leap year')
  t.ok(isIsoDate('2000-02-29'), 'leap day in a year divisible by 400')
  t.notOk(isIsoDate('2025-02-29'), 'no leap day in 2025')
  t.notOk(isIsoDate('1900-02-29'), 'no leap day in a century not divisible by 400')
  t.notOk(isIsoDate('2025-02-30'))
  t.notOk(isIsoDate('2025-04-31'))
  t.notOk(isIsoDate('2025-13-01'))
  t.notOk(isIsoDate('2025-00-10'))
  t.notOk(isIsoDate('2025-01-00'))
  t.notOk(isIsoDate('0000-01-01'), 'year zero is refused like Postgres does')
  t.notOk(isIsoDate('2025-1-5'))
  t.notOk(isIsoDate('2025/11/14'))
  t.notOk(isIsoDate(' 2025-11-14'))
  t.notOk(isIsoDate('2025-11-14T00:00:00Z'))
  t.notOk(isIsoDate('٢٠٢٥-١١-١٤'), 'Arabic digits are not a wire date')
  t.notOk(isIsoDate(''))
})

t.test('adding days crosses months, years and leap days', async (t) => {
  t.equal(addDays('2025-11-14', 1), '2025-11-15')
  t.equal(addDays('2025-11-30', 1), '2025-12-01')
  t.equal(addDays('2025-12-31', 1), '2026-01-01')
  t.equal(addDays('2024-02-28', 1), '2024-02-29')
  t.equal(addDays('2025-02-28', 1), '2025-03-01')
  t.equal(addDays('2025-03-01', -1), '2025-02-28')
  t.equal(addDays('2025-11-14', 0), '2025-11-14')
  t.equal(addDays('2025-11-14', 30), '2025-12-14')
})

t.test('adding days to a bad date or a fractional count throws', async (t) => {
  t.throws(() => addDays('2025-02-30', 1), RangeError)
  t.throws(() => addDays('2025-11-14', 1.5), RangeError)
  t.throws(() => addDays('9999-12-31', 1), RangeError)
})

t.test('the compact date is the one inside booking ids', async (t) => {
  t.equal(compactDate('2025-11-14'), '20251114')
  t.throws(() => compactDate('2025-13-01'), RangeError)
})

t.test('weekdays count from Sunday = 0 whatever the server timezone', async (t) => {
  t.equal(weekdayOf('2025-11-14'), 5, 'a Friday')
  t.equal(weekdayOf('2025-11-15'), 6, 'a Saturday')
  t.equal(weekdayOf('2025-11-16'), 0, 'a Sunday')
  t.equal(weekdayOf('2024-02-29'), 4, 'a Thursday')
  t.throws(() => weekdayOf('nope'), RangeError)
})

t.test('an exam date DD/MM/YYYY gives its payment month', async (t) => {
  t.equal(parseDayMonthYear('29/10/2025'), '2025-10')
  t.equal(parseDayMonthYear('1/2/2026'), '2026-02', 'single-digit day and month')
  t.equal(parseDayMonthYear(' 29/02/2024 '), '2024-02')
  t.equal(parseDayMonthYear('٢٩/١٠/٢٠٢٥'), '2025-10', 'Arabic digits')
  t.equal(parseDayMonthYear('29/02/2025'), null, 'not a real day')
  t.equal(parseDayMonthYear('10/13/2025'), null, 'month 13')
  t.equal(parseDayMonthYear('2025-10-29'), null, 'ISO is not this format')
  t.equal(parseDayMonthYear('29/10/25'), null, 'two-digit year')
  t.equal(parseDayMonthYear(''), null)
})

t.test('our timestamps are UTC ISO-8601 ending in Z', async (t) => {
  t.equal(utcIso(new Date(Date.UTC(2025, 10, 14, 7, 5, 3, 9))), '2025-11-14T07:05:03.009Z')
  t.equal(utcIso(new Date('2025-11-14T10:00:00+03:00')), '2025-11-14T07:00:00.000Z')
})
