import t from 'tap'
import { BOOKING_STATUSES, isActiveStatus, parseStatus, statusLabel } from '../src/domain/status.ts'

t.test('English statuses are accepted in any case and with surrounding spaces', async (t) => {
  t.equal(parseStatus('booked'), 'booked')
  t.equal(parseStatus('  Served '), 'served')
  t.equal(parseStatus('NO_SHOW'), 'no_show')
  t.equal(parseStatus('In_Progress'), 'in_progress')
  t.equal(parseStatus('cancelled'), 'cancelled')
})

t.test('the Arabic labels the apps send are understood', async (t) => {
  t.equal(parseStatus('تم الحجز'), 'booked')
  t.equal(parseStatus('جاري المعاينة'), 'in_progress')
  t.equal(parseStatus('تمت المعاينة'), 'served')
  t.equal(parseStatus('لم يحضر'), 'no_show')
  t.equal(parseStatus('ملغى'), 'cancelled')
  t.equal(parseStatus('  تمت   المعاينة '), 'served', 'extra spaces do not matter')
})

t.test('"cancel the booking" cancels, with or without the hamza', async (t) => {
  t.equal(parseStatus('الغاء الحجز'), 'cancelled')
  t.equal(parseStatus('إلغاء الحجز'), 'cancelled')
})

t.test('unknown statuses are refused rather than stored verbatim', async (t) => {
  t.equal(parseStatus(''), null)
  t.equal(parseStatus('done'), null)
  t.equal(parseStatus('canceled'), null)
  t.equal(parseStatus('no show'), null)
  t.equal(parseStatus('محجوز'), null)
})

t.test('every status shows its Arabic label and reads back as itself', async (t) => {
  t.same(BOOKING_STATUSES.map(statusLabel), ['تم الحجز', 'جاري المعاينة', 'تمت المعاينة', 'لم يحضر', 'ملغى'])
  for (const s of BOOKING_STATUSES) t.equal(parseStatus(statusLabel(s)), s, s)
})

t.test('only a cancelled booking gives up its seat; served and no-show keep it', async (t) => {
  t.same(
    BOOKING_STATUSES.filter(isActiveStatus),
    ['booked', 'in_progress', 'served', 'no_show']
  )
  t.equal(isActiveStatus('cancelled'), false)
})
