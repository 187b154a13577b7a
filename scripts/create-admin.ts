// Creates an admin account, for operators: the dashboard can only create admins once someone can log in.
//
//   DATABASE_URL=postgres://… ADMIN_PASSWORD=… node dist/scripts/create-admin.js --email a@b.c --name "Ali" [--super]
//
// (compiled with the server by `npm run build`; from a checkout, `node --import tsx scripts/create-admin.ts` too).
//
// The e-mail and name may also come from ADMIN_EMAIL / ADMIN_NAME. The password is read from ADMIN_PASSWORD, or
// from standard input when that is not a terminal (`… < password.txt`), never from the command line, where every
// user of the machine could read it in the process list and it would stay in the shell history. The migrations
// must have run (start the server once). Exit codes: 0 created, 1 the e-mail already has an account, 2 bad input.
import { parseArgs } from 'node:util'
import postgres from 'postgres'
import { insertAdmin, isEmail, normalizeEmail } from '../src/auth/admins.ts'
import { hashPassword } from '../src/auth/password.ts'

function fail (message: string, code = 2): never {
  process.stderr.write(`create-admin: ${message}\n`)
  process.exit(code)
}

async function readStdin (): Promise<string> {
  if (process.stdin.isTTY === true) return ''
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '')
}

const { values } = parseArgs({
  options: {
    email: { type: 'string' },
    name: { type: 'string' },
    super: { type: 'boolean', default: false },
    superuser: { type: 'boolean', default: false } // the earlier spelling
  }
})
const superuser = values.super || values.superuser

const databaseUrl = process.env.DATABASE_URL
if (databaseUrl === undefined || databaseUrl === '') fail('DATABASE_URL is required')
const email = normalizeEmail(values.email ?? process.env.ADMIN_EMAIL ?? '')
if (!isEmail(email)) fail('an e-mail is required (--email or ADMIN_EMAIL)')
const name = (values.name ?? process.env.ADMIN_NAME ?? 'Admin').trim()
if (name === '') fail('the name must not be empty')
const password = process.env.ADMIN_PASSWORD ?? await readStdin()
if (Array.from(password).length < 8) fail('a password of at least 8 characters is required (ADMIN_PASSWORD or standard input)')

const sql = postgres(databaseUrl, { max: 1, onnotice: () => {}, connection: { application_name: 'tabeby:create-admin' } })
try {
  const admin = await insertAdmin(sql, { name, email, passwordHash: await hashPassword(password), superuser })
  if (admin === null) {
    process.stderr.write(`create-admin: ${email} already has an account; nothing changed\n`)
    process.exitCode = 1
  } else {
    process.stdout.write(`created admin ${admin.id} <${admin.email}>${superuser ? ' (superuser)' : ''}\n`)
  }
} catch (error) {
  process.stderr.write(`create-admin: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exitCode = 2
} finally {
  await sql.end({ timeout: 5 })
}
