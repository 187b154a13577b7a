import t from 'tap'
import {
  accountRef,
  goldenBookingId,
  goldenCode,
  normalizeDigits,
  normalizePhone,
  parseAccountId,
  parseBookingId,
  parsePositiveInt,
  regularBookingId,
  secretaryBookingId,
  secretaryCode,
} from '../src/domain/identifiers.ts'

t.test('booking ids keep the legacy display shapes', async (t) => {
  t.equal(regularBookingId(7, '2025-11-14', 4), 'B-7-20251114-0004')
  t.equal(secretaryBookingId(7, '2025-11-14', 2), 'S-7-20251114-002')
  t.equal(goldenBookingId(4, '2025-10-29', 1), 'G-4-20251029-0001')
  t.equal(regularBookingId(7, '2025-11-14', 12345), 'B-7-20251114-12345', 'a long sequence is not truncated')
  t.equal(secretaryBookingId(7, '2025-11-14', 1000), 'S-7-20251114-1000')
  t.throws(() => regularBookingId(7, '2025-02-30', 1), RangeError)
})

t.test('a booking id reads back into lane, clinic, date and sequence', async (t) => {
  t.same(parseBookingId('B-7-20251114-0004'), { lane: 'regular', clinicId: 7, date: '2025-11-14', seq: 4 })
  t.same(parseBookingId('S-7-20251114-002'), { lane: 'regular', clinicId: 7, date: '2025-11-14', seq: 2 })
  t.same(parseBookingId('G-4-20251029-0001'), { lane: 'golden', clinicId: 4, date: '2025-10-29', seq: 1 })
  t.same(parseBookingId(' B-12-20240229-0010 '), { lane: 'regular', clinicId: 12, date: '2024-02-29', seq: 10 })
})

t.test('legacy golden ids ending in a patient id are still recognised', async (t) => {
  t.same(parseBookingId('G-4-20251029-P-71'), { lane: 'golden', clinicId: 4, date: '2025-10-29', seq: null })
})

t.test('malformed booking ids are refused', async (t) => {
  t.equal(parseBookingId(''), null)
  t.equal(parseBookingId('B-7-20251114'), null, 'no sequence')
  t.equal(parseBookingId('B-7-2025111-0001'), null, 'seven-digit date')
  t.equal(parseBookingId('B-7-20251301-0001'), null, 'month 13')
  t.equal(parseBookingId('B-7-20250229-0001'), null, 'no leap day in 2025')
  t.equal(parseBookingId('B-0-20251114-0001'), null, 'clinic 0')
  t.equal(parseBookingId('B-7-20251114-0000'), null, 'sequence 0')
  t.equal(parseBookingId('B-7-20251114-P-71'), null, 'only golden ids carried a patient id')
  t.equal(parseBookingId('X-7-20251114-0001'), null, 'unknown prefix')
  t.equal(parseBookingId('b-7-20251114-0001'), null, 'lower-case prefix')
  t.equal(parseBookingId('G-4-20251029-'), null)
})

t.test('golden codes are four digits between 1000 and 9999', async (t) => {
  for (let i = 0; i < 500; i++) {
    const code = goldenCode()
    if (!/^[1-9]\d{3}$/.test(code)) t.fail(`bad code ${code}`)
  }
  t.pass('500 codes were well formed')
})

t.test('Arabic-Indic and Persian digits become ASCII', async (t) => {
  t.equal(normalizeDigits('٠١٢٣٤٥٦٧٨٩'), '0123456789')
  t.equal(normalizeDigits('۰۱۲۳۴۵۶۷۸۹'), '0123456789')
  t.equal(normalizeDigits('عدد ٢٠ patients 5'), 'عدد 20 patients 5')
})

t.test('positive integers are read from numbers and digit strings', async (t) => {
  t.equal(parsePositiveInt(20), 20)
  t.equal(parsePositiveInt('20'), 20)
  t.equal(parsePositiveInt(' ٢٠ '), 20)
  t.equal(parsePositiveInt('۱۵'), 15)
  t.equal(parsePositiveInt('007'), 7)
  for (const bad of [0, -3, 2.5, Number.NaN, Infinity, 2 ** 53, '0', '-3', '2.5', '+5', '', '20 مريض', null, undefined, true, [20], { n: 20 }]) {
    t.equal(parsePositiveInt(bad), null, `refuses ${String(bad)}`)
  }
})

t.test('phone numbers are normalised to E.164', async (t) => {
  t.equal(normalizePhone('+9647701234567'), '+9647701234567')
  t.equal(normalizePhone('9647701234567'), '+9647701234567', 'digits without a plus get one')
  t.equal(normalizePhone(' 9647701234567'), '+9647701234567', 'a query-string plus decoded to a space')
  t.equal(normalizePhone('+964 770 123-4567'), '+9647701234567', 'spaces and dashes')
  t.equal(normalizePhone('+964 (770) 123 4567'), '+9647701234567', 'parentheses')
  t.equal(normalizePhone('+٩٦٤٧٧٠١٢٣٤٥٦٧'), '+9647701234567', 'Arabic digits')
  t.equal(normalizePhone('۹۶۴۷۷۰۱۲۳۴۵۶۷'), '+9647701234567', 'Persian digits without a plus')
  t.equal(normalizePhone('\u200e+9647701234567\u200f'), '+9647701234567', 'bidi marks from an RTL screen')
})

t.test('phone numbers that are not E.164 are refused', async (t) => {
  t.equal(normalizePhone(''), null)
  t.equal(normalizePhone('   '), null)
  t.equal(normalizePhone('07701234567'), null, 'a local number is not guessed into a country')
  t.equal(normalizePhone('009647701234567'), null, 'the 00 prefix is not E.164')
  t.equal(normalizePhone('+12345'), null, 'too short')
  t.equal(normalizePhone('+1234567890123456'), null, 'too long')
  t.equal(normalizePhone('+964abc1234567'), null)
  t.equal(normalizePhone('++9647701234567'), null)
  t.equal(normalizePhone('+964+7701234567'), null)
})

t.test('account ids are read from P-71, 71 or Arabic digits', async (t) => {
  t.equal(parseAccountId('P-71'), 71)
  t.equal(parseAccountId('p-71'), 71)
  t.equal(parseAccountId('71'), 71)
  t.equal(parseAccountId(71), 71)
  t.equal(parseAccountId('P-٧١'), 71)
  t.equal(parseAccountId('P-'), null)
  t.equal(parseAccountId('P-0'), null)
  t.equal(parseAccountId('S-71'), null)
  t.equal(parseAccountId('P71'), null)
  t.equal(accountRef(71), 'P-71')
  t.equal(parseAccountId(accountRef(71)), 71)
})

t.test('secretary codes are read from S-123456, 123456 or the number', async (t) => {
  t.equal(secretaryCode('S-123456'), 123456)
  t.equal(secretaryCode('123456'), 123456)
  t.equal(secretaryCode(123456), 123456)
  t.equal(secretaryCode(' ١٢٣٤٥٦ '), 123456)
  t.equal(secretaryCode('S-'), null)
  t.equal(secretaryCode('P-123456'), null)
  t.equal(secretaryCode(null), null)
})
