import t from 'tap'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { root, startServer, stats, waitFor } from './helpers/server.ts'

// The log as an operator's tools read it: one JSON object per line, whose pid and proc are the writer's.

interface Line {
  level: string
  t: string
  proc: string
  pid: number
  msg: string
  [field: string]: unknown
}

// A small program that logs through src/log.ts in a process of its own, with the environment given.
function logFrom (program: string, env: Record<string, string> = {}): { pid: number, stdout: string, lines: () => Line[] } {
  const source = `
    import { log, errorFields, setProcessName } from ${JSON.stringify(join(root, 'src/log.ts'))}
    ${program}
    process.stderr.write(String(process.pid))`
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', source], {
    cwd: root,
    env: { PATH: process.env.PATH, ...env },
    encoding: 'utf8'
  })
  if (run.status !== 0) throw new Error(`exited ${String(run.status)}: ${run.stderr}`)
  return { pid: Number(run.stderr), stdout: run.stdout, lines: () => run.stdout.trim().split('\n').map((line) => JSON.parse(line) as Line) }
}

t.test('fields never overwrite the line\'s own keys: they are kept beside them', async (t) => {
  const run = logFrom(`
    setProcessName('worker-3')
    log.info('hello', { pid: 1, proc: 'primary', level: 'error', t: 'then', msg: 'other', clinic: 7 })`)
  const [line] = run.lines()
  t.match(line, { level: 'info', proc: 'worker-3', pid: run.pid, msg: 'hello', clinic: 7 })
  t.match(line, { field_pid: 1, field_proc: 'primary', field_level: 'error', field_t: 'then', field_msg: 'other' })
  t.ok(!Number.isNaN(Date.parse(line?.t ?? '')), 'an ISO timestamp')
  t.match(run.stdout, /^\{"level":"info","t":"[^"]+","proc":"worker-3","pid":\d+,"msg":"hello",/, 'the message ahead of the fields')
})

t.test('fields bound with log.with() cannot overwrite them either, nor can a line\'s fields undo the binding', async (t) => {
  const run = logFrom(`
    setProcessName('worker-2')
    const bound = log.with({ pid: 1, proc: 'primary', request_id: 'r-1' })
    bound.info('bound', { route: '/x', proc: 'coordinator' })`)
  const [line] = run.lines()
  t.match(line, { proc: 'worker-2', pid: run.pid, msg: 'bound', request_id: 'r-1', route: '/x', field_pid: 1 })
  t.equal(line?.field_proc, 'coordinator', 'the later field is kept beside, never in place of, proc')
  t.equal((run.stdout.match(/"proc":/g) ?? []).length, 1, 'one proc key on the line')
  t.equal((run.stdout.match(/"pid":/g) ?? []).length, 1, 'one pid key on the line')
})

t.test('an error is logged with its stack, its cause and the inner errors of an AggregateError', async (t) => {
  const run = logFrom(`
    const cause = new Error('connect ECONNREFUSED')
    log.error('job failed', errorFields(new Error('nightly archive failed', { cause })))
    log.warn('database unreachable', errorFields(new AggregateError([new Error('refused on ::1'), new Error('refused on 127.0.0.1')], '')))
    log.warn('not an error', errorFields('a string'))`)
  const [failed, aggregate, plain] = run.lines()
  t.equal(failed?.error, 'nightly archive failed')
  t.match(failed?.stack, /^Error: nightly archive failed\n\s+at /, 'the stack')
  t.match(failed?.cause, { error: 'connect ECONNREFUSED', stack: /at / }, 'the cause, with its own stack')
  t.equal(aggregate?.error, 'AggregateError', 'an empty message names the error instead')
  t.same(aggregate?.errors, ['refused on ::1', 'refused on 127.0.0.1'])
  t.same(plain?.error, 'a string')
})

t.test('LOG_LEVEL drops what is below it; LOG_FORMAT=pretty prints for a person', async (t) => {
  const program = "log.debug('d'); log.info('i'); log.warn('w', { n: 1 }); log.error('e')"
  t.same(logFrom(program, { LOG_LEVEL: 'warn' }).lines().map((l) => l.msg), ['w', 'e'])
  t.same(logFrom(program, { LOG_LEVEL: 'debug' }).lines().map((l) => l.level), ['debug', 'info', 'warn', 'error'])
  t.same(logFrom(program).lines().map((l) => l.msg), ['i', 'w', 'e'], 'info by default')
  const pretty = logFrom(program, { LOG_FORMAT: 'pretty' }).stdout
  t.match(pretty, /WARN.*primary\[\d+\] w \{"n":1\}/, 'level, process, message, fields on one line')
  t.throws(() => JSON.parse(pretty.split('\n')[0] ?? ''), 'not JSON')
  t.same(logFrom(program, { LOG_FORMAT: 'pretty', ENVIRONMENT: 'production', LOG_LEVEL: 'error' }).lines().map((l) => l.msg), ['e'],
    'never pretty in production (the server refuses the pair at start)')
})

t.test('in a running cluster every line is JSON from its own process; a worker\'s exit names the child apart', async (t) => {
  const server = await startServer({ workers: 2, initialised: true })
  t.teardown(server.cleanup)
  const before = await waitFor('two workers', async () => { const s = await stats(server); return s.workers.length === 2 ? s : null })
  const victim = before.workers[0] as { id: number, pid: number }
  process.kill(victim.pid, 'SIGKILL')
  await waitFor('the restart line', async () => server.output().includes('"msg":"worker exited, restarting"'))
  const { code } = await server.stop()
  t.equal(code, 0)

  const lines = server.output().trim().split('\n').map((line) => JSON.parse(line) as Line)
  const primaryPid = server.child.pid
  t.ok(lines.length > 8, `${lines.length} lines, each a JSON object`)
  t.ok(lines.filter((l) => l.proc === 'primary').every((l) => l.pid === primaryPid), 'every primary line has the primary\'s pid')
  t.ok(lines.filter((l) => l.proc.startsWith('worker-')).every((l) => l.pid !== primaryPid), 'no worker line claims the primary\'s pid')
  const exited = lines.find((l) => l.msg === 'worker exited, restarting')
  t.match(exited, { proc: 'primary', pid: primaryPid, childPid: victim.pid, id: victim.id, signal: 'SIGKILL' })
})
