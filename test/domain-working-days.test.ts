import t from 'tap'
import {
  candidateDays,
  SEARCH_HORIZON_DAYS,
  weekdayFromArabic,
  workingDays,
  workingDaysOfProfile,
} from '../src/domain/working-days.ts'

const SUN = 0
const MON = 1
const TUE = 2
const WED = 3
const THU = 4
const FRI = 5
const SAT = 6

const sorted = (s: Set<number> | null): number[] | null => (s === null ? null : [...s].sort((a, b) => a - b))

t.test('Arabic day names map to weekdays, with or without hamza', async (t) => {
  t.equal(weekdayFromArabic('السبت'), SAT)
  t.equal(weekdayFromArabic('الأحد'), SUN)
  t.equal(weekdayFromArabic('الاحد'), SUN)
  t.equal(weekdayFromArabic('الاثنين'), MON)
  t.equal(weekdayFromArabic('الإثنين'), MON)
  t.equal(weekdayFromArabic('الثلاثاء'), TUE)
  t.equal(weekdayFromArabic('الأربعاء'), WED)
  t.equal(weekdayFromArabic('الاربعاء'), WED)
  t.equal(weekdayFromArabic('الخميس'), THU)
  t.equal(weekdayFromArabic('الجمعة'), FRI)
  t.equal(weekdayFromArabic('  الجمعة '), FRI, 'surrounding spaces')
  t.equal(weekdayFromArabic('الجمـعة'), FRI, 'a tatweel')
  t.equal(weekdayFromArabic('Friday'), null)
  t.equal(weekdayFromArabic(5), null)
})

t.test('a Saturday-to-Thursday clinic is closed on Friday', async (t) => {
  t.same(sorted(workingDays({ from: 'السبت', to: 'الخميس' })), [SUN, MON, TUE, WED, THU, SAT])
})

t.test('a whole-week range works every day', async (t) => {
  t.same(sorted(workingDays({ from: 'السبت', to: 'الجمعة' })), [SUN, MON, TUE, WED, THU, FRI, SAT])
})

t.test('a range from Thursday to Sunday wraps past the end of the week', async (t) => {
  t.same(sorted(workingDays({ from: 'الخميس', to: 'الأحد' })), [SUN, THU, FRI, SAT])
  t.same(sorted(workingDays({ from: 'الجمعة', to: 'السبت' })), [FRI, SAT], 'Friday then Saturday')
})

t.test('a one-day range works that day only', async (t) => {
  t.same(sorted(workingDays({ from: 'الأربعاء', to: 'الاربعاء' })), [WED])
})

t.test('a missing or unreadable range lets every day count', async (t) => {
  t.equal(workingDays(null), null)
  t.equal(workingDays(undefined), null)
  t.equal(workingDays({}), null)
  t.equal(workingDays({ from: 'السبت' }), null)
  t.equal(workingDays({ from: 'السبت', to: 'Thursday' }), null)
  t.equal(workingDays({ from: 6, to: 4 }), null)
})

t.test('working days come from clinic_days, not the misspelled clinck_days', async (t) => {
  t.same(sorted(workingDaysOfProfile({ clinic_days: { from: 'الأحد', to: 'الخميس' } })), [SUN, MON, TUE, WED, THU])
  t.equal(workingDaysOfProfile({ clinck_days: { from: 'الأحد', to: 'الخميس' } }), null)
  t.equal(workingDaysOfProfile({ clinic_days: 'السبت' }), null)
  t.equal(workingDaysOfProfile(null), null)
})

t.test('the search offers today and the next 29 days when every day counts', async (t) => {
  const days = candidateDays('2025-11-14', SEARCH_HORIZON_DAYS, null)
  t.equal(days.length, 30)
  t.equal(days[0], '2025-11-14', 'today is included')
  t.equal(days[29], '2025-12-13')
})

t.test('closed weekdays use up the 30-day horizon instead of extending it', async (t) => {
  const satToThu = workingDays({ from: 'السبت', to: 'الخميس' })
  const days = candidateDays('2025-11-14', SEARCH_HORIZON_DAYS, satToThu)
  t.equal(days.length, 25, 'five Fridays fall in the 30 days starting Friday 14 November')
  t.notOk(days.includes('2025-11-14'), 'today is a Friday and is skipped')
  t.equal(days[0], '2025-11-15')
  t.equal(days.at(-1), '2025-12-13')
})

t.test('the horizon crosses a month and a leap day', async (t) => {
  const wedOnly = workingDays({ from: 'الأربعاء', to: 'الأربعاء' })
  t.same(candidateDays('2024-02-26', 10, wedOnly), ['2024-02-28', '2024-03-06'])
  t.same(candidateDays('2024-02-28', 3, null), ['2024-02-28', '2024-02-29', '2024-03-01'])
})

t.test('a zero horizon offers nothing', async (t) => {
  t.same(candidateDays('2025-11-14', 0, null), [])
})
