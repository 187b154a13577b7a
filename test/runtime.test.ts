import t, { type Test } from 'tap'
import { execFileSync, spawn } from 'node:child_process'
import { readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import postgres from 'postgres'
import { addDays, iraqToday } from '../src/domain/calendar.ts'
import { freePort, startEmbedded } from '../src/db/embedded.ts'
import { alive, copyInitialisedDatabase, getJson, request, root, startServer, stats, tempDir, waitFor, type TestServer } from './helpers/server.ts'

// The compiled build, started exactly as the host starts it (the Procfile's web line), and stopped the ways a host
// or a person stops it: SIGTERM to that process, a signal to its whole process group, `npm start` signalled or
// killed. Each stop must drain: exit 0, every booking answered 200 in the database, no process left.

// Seven real servers, each with its own embedded PostgreSQL, started and stopped the slow way (and `npm start`
// compiles first): on a loaded machine that is more than the suite's 240 s per file. The first initialises its
// database from the build; the others start on a copy of an initialised one (their subject is the stop).
t.setTimeout(480_000)

// The build under test is the one in the tree: compile what changed (a no-op when `npm ci` just built it).
execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' })

const ADMIN = { ADMIN_EMAIL: 'ops@tabeby.test', ADMIN_PASSWORD: 'an-operator-password' }
const headers = { 'Doctor-Secret': 'dev-secret', 'Content-Type': 'application/json' }
const date = addDays(iraqToday(), 2)

// Every live process of a process group (zombies are dead: only their parent has yet to read their status).
function groupMembers (pgid: number): number[] {
  const members: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') members.push(Number(entry))
    } catch {
      // the process left while we looked
    }
  }
  return members
}

function commandLine (pid: number): string {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim()
}

interface Bookings {
  confirmed: string[]
  answers: Record<string, number>
  stop: () => Promise<void>
}

// Clients that keep booking on fresh connections, as phones do, until told to stop; a booking counts as confirmed
// only when it was answered 200.
function keepBooking (server: TestServer, clinicId: number, clients = 6): Bookings {
  let running = true
  let next = 0
  const bookings: Bookings = { confirmed: [], answers: {}, stop: async () => { running = false; await Promise.all(loops) } }
  const loops = Array.from({ length: clients }, async () => {
    while (running) {
      const n = next++
      let outcome: string
      try {
        const res = await request(`${server.url}/api/patient_booking`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ clinic_id: clinicId, name: `مراجع ${n}`, phone: '+9647700000000', patient_id: `P-${n}`, date, source: 'secretary_app' }),
          timeoutMs: 10_000
        })
        outcome = String(res.status)
        if (res.status === 200) bookings.confirmed.push(res.json<{ booking_id: string }>().booking_id)
      } catch {
        outcome = 'no answer'
        await sleep(20)
      }
      bookings.answers[outcome] = (bookings.answers[outcome] ?? 0) + 1
    }
  })
  return bookings
}

async function openDay (server: TestServer, clinicId: number): Promise<void> {
  const res = await request(`${server.url}/api/create_table`, { method: 'POST', headers, body: JSON.stringify({ clinic_id: clinicId, days: { [date]: { capacity_total: 5000 } } }) })
  if (res.status !== 200) throw new Error(`create_table: ${res.status} ${res.text}`)
}

// The server is down: open its data directory again and read which bookings it holds.
async function storedBookings (dataDir: string, clinicId: number): Promise<Set<string>> {
  const db = await startEmbedded(dataDir)
  const sql = postgres(db.url, { max: 1, onnotice: () => {} })
  try {
    const rows = await sql<Array<{ display_id: string }>>`
      SELECT b.display_id FROM bookings b JOIN booking_days d ON d.id = b.day_id WHERE d.clinic_id = ${clinicId}`
    return new Set(rows.map((row) => row.display_id))
  } finally {
    await sql.end()
    await db.stop()
  }
}

async function clusterPids (server: TestServer): Promise<number[]> {
  const s = await waitFor('coordinator and workers', async () => {
    const body = await stats(server)
    return body.coordinator !== null && body.workers.length === 2 ? body : null
  })
  return [server.child.pid as number, s.coordinator?.pid as number, ...s.workers.map((w) => w.pid)]
}

// Books, sends `stop`, keeps booking until the server is gone, and checks the three promises of a drain.
async function drainUnderBookings (t: Test, server: TestServer, clinicId: number, stop: () => void): Promise<void> {
  await openDay(server, clinicId)
  const pids = await clusterPids(server)
  const group = groupMembers(server.child.pid as number)
  const postmaster = Number(readFileSync(join(server.dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0])
  t.ok(group.includes(postmaster), 'the embedded postgres runs in the group')

  const bookings = keepBooking(server, clinicId)
  await waitFor('bookings under way', async () => bookings.confirmed.length >= 30, 30_000)
  stop()
  const { code, signal } = await server.exited
  await bookings.stop()

  t.equal(code, 0, `exit code 0 (signal ${String(signal)})`)
  t.match(server.output(), /"msg":"stopped"/, 'the drain ran to its end')
  t.same(pids.filter(alive), [], 'primary, coordinator and workers are gone')
  t.same(groupMembers(server.child.pid as number), [], `no process of the group is left (it had ${group.length}, postgres included)`)
  t.ok(bookings.confirmed.length >= 30, `${bookings.confirmed.length} bookings confirmed (${JSON.stringify(bookings.answers)})`)
  const stored = await storedBookings(server.dataDir, clinicId)
  t.same(bookings.confirmed.filter((id) => !stored.has(id)), [], `every confirmed booking is in the database (${stored.size} stored)`)
}

t.test('the Procfile starts the compiled primary under plain node, and its children compiled too', async (t) => {
  const server = await startServer({ build: 'procfile', detached: true, env: ADMIN })
  t.teardown(server.cleanup)
  const pids = await clusterPids(server)
  for (const pid of pids) {
    const line = commandLine(pid)
    t.notMatch(line, /tsx|\.ts\b/, `no TypeScript loader: ${line}`)
    t.match(line, /dist\/(src|workers|coordinator)\/[\w-]+\.js$/, 'a compiled entry file')
  }
  const health = await getJson<{ version: string }>(`${server.url}/health`)
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }
  t.equal(health.body.version, pkg.version, 'package.json is read from the package root')
  t.match(server.output(), /"msg":"migrations applied","applied":\["001_schema\.sql"/, 'the migrations are found from the build')
  // An admin login verifies the password with scrypt on a piscina thread: the compiled task file.
  const login = await request(`${server.url}/auth/admin/auth`, { method: 'POST', headers, body: JSON.stringify({ email: ADMIN.ADMIN_EMAIL, password: ADMIN.ADMIN_PASSWORD }) })
  t.equal(login.status, 200, 'the CPU pool runs its compiled task file')
})

t.test('SIGTERM to the process the Procfile starts, during bookings, drains and exits 0', async (t) => {
  const server = await startServer({ build: 'procfile', detached: true, initialised: true })
  t.teardown(server.cleanup)
  await drainUnderBookings(t, server, 301, () => process.kill(server.child.pid as number, 'SIGTERM'))
})

t.test('SIGTERM to the whole process group, during bookings, drains and exits 0', async (t) => {
  const server = await startServer({ build: 'procfile', detached: true, initialised: true })
  t.teardown(server.cleanup)
  await drainUnderBookings(t, server, 302, () => process.kill(-(server.child.pid as number), 'SIGTERM'))
})

for (const [signal, what] of [['SIGINT', 'Ctrl-C'], ['SIGHUP', 'a closed terminal']] as const) {
  t.test(`${signal} to the whole process group (${what}) drains and exits 0, leaving no process`, async (t) => {
    const server = await startServer({ build: 'procfile', detached: true, initialised: true })
    t.teardown(server.cleanup)
    const pids = await clusterPids(server)
    process.kill(-(server.child.pid as number), signal)
    const { code } = await server.exited
    t.equal(code, 0, 'exit code 0')
    t.match(server.output(), new RegExp(`"msg":"shutting down","reason":"${signal}"`))
    t.same(pids.filter(alive), [], 'primary, coordinator and workers are gone')
    t.same(groupMembers(server.child.pid as number), [], 'no process of the group is left, postgres included')
  })
}

interface NpmStart {
  npm: ReturnType<typeof spawn>
  url: string
  output: () => string
  exited: Promise<number | null>
}

// `npm start` as a person runs it: npm, its prestart build, then the primary.
async function npmStart (t: Test): Promise<NpmStart> {
  const port = await freePort()
  const dataDir = tempDir('tabeby-data-')
  await copyInitialisedDatabase(dataDir)
  let output = ''
  const npm = spawn('npm', ['start'], {
    cwd: root,
    detached: true,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, WEB_CONCURRENCY: '2' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  npm.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  npm.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)))
  // Whatever a failed assertion left running goes, then its data.
  t.teardown(() => {
    for (const pid of groupMembers(npm.pid as number)) process.kill(pid, 'SIGKILL')
    rmSync(dataDir, { recursive: true, force: true })
  })
  await waitFor('npm start to serve', async () => output.includes('Tabeby API listening') ? true : null, 90_000, 100)
  return { npm, url: `http://127.0.0.1:${port}`, output: () => output, exited }
}

t.test('npm start: a SIGTERM to npm reaches the primary, which drains', async (t) => {
  const started = await npmStart(t)
  const pgid = started.npm.pid as number
  const primary = Number(/"proc":"primary","pid":(\d+)/.exec(started.output())?.[1])
  t.ok(alive(primary), `the primary runs (pid ${primary})`)
  process.kill(pgid, 'SIGTERM')
  t.equal(await started.exited, 0, 'npm exits 0: the primary it ran did')
  await waitFor('the group to empty', async () => groupMembers(pgid).length === 0, 15_000)
  t.match(started.output(), /"msg":"shutting down","reason":"SIGTERM"[\s\S]*"msg":"stopped"/, 'the primary drained')
})

t.test('npm start: a primary whose npm is killed outright drains and leaves', async (t) => {
  const started = await npmStart(t)
  const pgid = started.npm.pid as number
  const res = await request(`${started.url}/health`)
  t.equal(res.status, 200)
  process.kill(pgid, 'SIGKILL')
  await started.exited
  await waitFor('the group to empty', async () => groupMembers(pgid).length === 0, 20_000)
  t.pass('no process of the group is left')
  t.match(started.output(), /"msg":"shutting down","reason":"parent exited"[\s\S]*"msg":"stopped"/, 'the primary noticed and drained')
})
