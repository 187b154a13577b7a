import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { z } from 'zod'
import * as exported from '../src/errors.ts'
import { ApiError, catalogue, errors, bookingErrors, paymentErrors, type ErrorEntry, type Shape } from '../src/errors.ts'

// The error catalogue as a contract: one code per meaning, and every entry builds the legacy wire shape it declares.

const entries: Array<{ name: string, entry: ErrorEntry }> = Object.entries(catalogue)
  .flatMap(([area, group]) => Object.entries(group).map(([key, entry]) => ({ name: `${area}.${key}`, entry })))

const ARABIC = /[\u0600-\u06ff]/

const shapes: Record<Shape, (entry: ErrorEntry) => z.ZodType> = {
  detail: (entry) => z.looseObject({ detail: z.string().min(1), code: z.literal(entry.wire ?? '(none)') }),
  error: (entry) => z.strictObject({ error: z.strictObject({ code: z.literal(entry.wire ?? '(none)'), message: z.string().min(1) }) }),
  'detail-error': (entry) => z.strictObject({
    detail: z.strictObject({ error: z.strictObject({ code: z.literal(entry.wire ?? '(none)'), message: z.string().min(1) }) })
  }),
  'detail-list': () => z.strictObject({
    detail: z.array(z.strictObject({ loc: z.array(z.union([z.string(), z.number()])), msg: z.string(), type: z.string() })).min(1)
  }),
  'rate-limit': () => z.strictObject({ error: z.literal('Too many requests'), message: z.string().min(1), retry_after: z.number().int().positive() })
}

t.test('every list of errors src/errors.ts exports is in the catalogue, so the tests below see it', async (t) => {
  const lists = Object.entries(exported).filter(([name]) => name === 'errors' || name.endsWith('Errors'))
  t.ok(lists.length >= 8)
  for (const [name, list] of lists) t.ok(Object.values(catalogue).includes(list as Record<string, ErrorEntry>), name)
})

t.test('every code names one meaning: no two entries share one', async (t) => {
  const seen = new Map<string, string>()
  for (const { name, entry } of entries) {
    t.match(entry.code, /^[a-z][a-z0-9_]*$/, `${name}: a snake_case code`)
    t.notOk(seen.has(entry.code), `${name}: code ${entry.code} is also ${seen.get(entry.code) ?? ''}`)
    seen.set(entry.code, name)
  }
  t.ok(entries.length > 80, `${entries.length} entries`)
})

t.test('a wire code is shared only where legacy shared it, and differs from the code only then', async (t) => {
  const byWire = new Map<string, string[]>()
  for (const { name, entry } of entries) if (entry.wire !== null) byWire.set(entry.wire, [...byWire.get(entry.wire) ?? [], name])
  const shared = [...byWire].filter(([, names]) => names.length > 1).map(([wire]) => wire).sort()
  // bad_request: the doctors router and main.py extras; not_found: FastAPI's 404 and the doctors router;
  // invalid_user_server_id: three patient routes; internal_error: FastAPI's 500 and the doctors directory;
  // image_error: update_ad_with_image's one code for an image it could not take; unauthorized: after-phone-login's one
  // code for a missing and a refused token.
  t.same(shared, ['bad_request', 'image_error', 'internal_error', 'invalid_user_server_id', 'not_found', 'unauthorized'])
  const codes = new Set(entries.map(({ entry }) => entry.code))
  for (const { name, entry } of entries) {
    if (entry.wire === null || entry.wire === entry.code) continue
    t.ok(codes.has(entry.wire) || (byWire.get(entry.wire)?.length ?? 0) > 1, `${name}: wire ${entry.wire} is legacy's shared code`)
  }
})

t.test('every entry builds its declared shape, with its status, code and an English message', async (t) => {
  for (const { name, entry } of entries) {
    const error = entry(...entry.example)
    t.ok(error instanceof ApiError, `${name}: an ApiError`)
    t.equal(error.status, entry.status, `${name}: status`)
    t.ok(error.status >= 400 && error.status <= 599, `${name}: an error status`)
    t.equal(error.code, entry.code, `${name}: code`)
    t.ok(error.message.length > 0 && !ARABIC.test(error.message), `${name}: English message "${error.message}"`)
    const parsed = shapes[entry.shape](entry).safeParse(error.body)
    t.ok(parsed.success, `${name}: ${entry.shape} body ${JSON.stringify(error.body)}`)
    t.same(JSON.parse(JSON.stringify(error.body)), error.body, `${name}: the body is plain JSON`)
    // A text other than the message is there only to show the apps the Arabic legacy sent.
    const shown = entry.text(...entry.example)
    if (shown !== error.message) t.match(shown, ARABIC, `${name}: shows Arabic`)
    if (entry.shape === 'detail') t.equal((error.body as { detail: string }).detail, shown, `${name}: detail is the shown text`)
    if (entry.status === 401) t.equal(error.headers['WWW-Authenticate'], 'Bearer', `${name}: names its scheme`)
  }
})

t.test('the legacy bodies, byte for byte', async (t) => {
  t.same(errors.notFound().body, { detail: 'Not Found', code: 'not_found' })
  t.same(errors.databaseBusy().body, {
    detail: 'الخادم مشغول حالياً، يرجى المحاولة بعد قليل', code: 'database_busy', message: 'the database is busy, retry shortly'
  })
  t.same(errors.databaseBusy().headers, { 'Retry-After': '1' })
  const full = bookingErrors.dayFull('2025-11-16', 20, 20)
  t.equal(JSON.stringify(full.body), JSON.stringify({
    detail: 'هذا اليوم ممتلئ (20/20)، يرجى اختيار يوم آخر', code: 'day_full', date: '2025-11-16', capacity_used: 20, capacity_total: 20
  }), 'the apps read the date and the capacity after the code')
  t.equal(full.message, 'day 2025-11-16 is full (20/20)')
  t.same(paymentErrors.duplicate().body, { detail: { error: { code: 'duplicate', message: 'this booking was already saved in the payments log' } } })
  const limited = errors.tooManyRequests(42)
  t.same(limited.body, { error: 'Too many requests', message: 'أنت تقوم بإرسال طلبات كثيرة جداً. يرجى الانتظار قليلاً.', retry_after: 42 })
  t.same(limited.headers, { 'Retry-After': '42' })
  t.same(errors.validation([{ loc: ['query', 'clinic_id'], msg: 'required', type: 'invalid_type' }]).body,
    { detail: [{ loc: ['query', 'clinic_id'], msg: 'required', type: 'invalid_type' }] })
})

// The catalogue is the only place an error body is written: everything else imports src/errors.ts.
t.test('no error is built outside the catalogue', async (t) => {
  const root = join(import.meta.dirname, '..')
  const walk = (dir: string): string[] => readdirSync(join(root, dir), { withFileTypes: true }).flatMap((item) => {
    const path = join(dir, item.name)
    return item.isDirectory() ? walk(path) : path.endsWith('.ts') ? [path] : []
  })
  const files = ['src', 'workers', 'coordinator', 'scripts'].flatMap(walk)
  t.ok(files.length > 50, `${files.length} files read`)
  for (const file of files) {
    if (file === join('src', 'errors.ts') || file.startsWith(join('src', 'errors') + '/')) continue
    const source = readFileSync(join(root, file), 'utf8')
    t.notMatch(source, /new ApiError\s*\(/, `${file} builds no ApiError itself`)
    t.notMatch(source, /from '[./]*(src\/)?errors\/[^']*'/, `${file} imports the catalogue through src/errors.ts`)
    t.notMatch(source, /json\(\s*[45]\d\d\b/, `${file} writes no error reply by hand`)
  }
})
