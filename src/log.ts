import { createRequire } from 'node:module'
import { pino, type DestinationStream, type Logger } from 'pino'
import { logFormat, variables, type LogLevel } from './config.ts'

// One JSON object per line on stdout (pino): Render and any log shipper parse it, and a person can still read it.
//
//   {"level":"info","t":"2026-03-01T09:00:00.000Z","proc":"worker-2","pid":4711,"msg":"worker listening","port":8000}
//
// `proc` and `pid` say which process wrote the line and no field can overwrite them: a field named like one of the
// line's own keys is written as `field_<name>` (a child's pid logged by the primary stays a separate field). The
// message comes before the fields, so a line reads left to right. Secrets never pass through here: callers log
// names and counts, not credentials or request bodies.
//
// Writes are synchronous (pino's default destination): a line logged just before process.exit is never lost, and
// the lines of one process keep their order. Everything goes to stdout, warnings and errors included, so an error
// and the lines before it arrive in the order they happened.

export type Fields = Record<string, unknown>

export interface Log {
  debug: (msg: string, fields?: Fields) => void
  info: (msg: string, fields?: Fields) => void
  warn: (msg: string, fields?: Fields) => void
  error: (msg: string, fields?: Fields) => void
  // Whether a level is written at all: skip building fields nobody reads (per-request lines, say).
  enabled: (level: LogLevel) => boolean
  // The same logger with fields added to every line (a request id, a worker id).
  with: (fields: Fields) => Log
}

const OWN_KEYS = new Set(['level', 't', 'proc', 'pid', 'msg'])

// The same variables, read with the same schema as the configuration: the logger exists before the configuration
// is loaded (a bad value is reported by loadConfig, with exit code 2; until then the defaults apply).
function settings (): { level: LogLevel, format: 'json' | 'pretty' } {
  const parsed = variables.pick({ ENVIRONMENT: true, LOG_LEVEL: true, LOG_FORMAT: true }).safeParse(process.env)
  if (!parsed.success) return { level: 'info', format: 'json' }
  return { level: parsed.data.LOG_LEVEL, format: logFormat(parsed.data.ENVIRONMENT, parsed.data.LOG_FORMAT) }
}

const { level, format } = settings()

function destination (): DestinationStream {
  const stdout = pino.destination({ fd: 1, sync: true })
  // Once stdout is gone (its terminal closed, its reader died) a line cannot be written anywhere, and a failed
  // write must not throw out of the drain that the same hang-up started.
  stdout.on('error', () => {})
  if (format === 'json') return stdout
  // Development only (LOG_FORMAT=pretty is refused in production): colours, local time, one line per event, and
  // a logged stack printed as a stack. Loaded only here, so production never loads it.
  const pretty = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty')
  return pretty({
    sync: true,
    destination: stdout,
    timestampKey: 't',
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid',
    hideObject: true,
    messageFormat: (line) => {
      const { level: _level, t: _t, proc, pid, msg, stack, ...fields } = line
      const rest = Object.keys(fields).length === 0 ? '' : ` ${JSON.stringify(fields)}`
      return `${String(proc)}[${String(pid)}] ${String(msg)}${rest}${typeof stack === 'string' ? `\n${stack}` : ''}`
    }
  })
}

const stream = destination()
let target: DestinationStream = stream
let processName = 'primary'
let logger = create()

function create (): Logger {
  return pino({
    level,
    base: { proc: processName, pid: process.pid },
    timestamp: () => `,"t":"${new Date().toISOString()}"`,
    formatters: { level: (label) => ({ level: label }) }
  }, target)
}

export function setProcessName (name: string): void {
  processName = name
  logger = create()
}

// Where the lines go instead of stdout (null: stdout again). The in-process route tests run server code inside the
// test process, whose stdout is tap's stream, and read the lines back from here.
export function setLogSink (sink: ((line: string) => void) | null): void {
  target = sink === null ? stream : { write: (line: string) => { sink(line) } }
  logger = create()
}

function guarded (fields: Fields): Fields {
  let safe: Fields | null = null
  for (const key of Object.keys(fields)) {
    if (!OWN_KEYS.has(key)) continue
    safe ??= { ...fields }
    delete safe[key]
    safe[`field_${key}`] = fields[key]
  }
  return safe ?? fields
}

function make (bound: Fields | null): Log {
  // The message goes in the object, ahead of the fields, rather than as pino's message argument (which pino
  // writes last).
  const write = (level: LogLevel) => (msg: string, fields?: Fields): void => {
    if (!logger.isLevelEnabled(level)) return
    logger[level]({ msg, ...(bound ?? {}), ...(fields === undefined ? {} : guarded(fields)) })
  }
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    enabled: (level) => logger.isLevelEnabled(level),
    with: (fields) => make({ ...(bound ?? {}), ...guarded(fields) })
  }
}

export const log: Log = make(null)

// An error as log fields: its message, code and stack, and the same for its cause and, for an AggregateError
// (a connection refused on every address of a host), each inner error's message. Only these: a driver error's other
// properties can carry row values (PostgreSQL's `detail` names the duplicate key), which do not belong in a log.
export function errorFields (error: unknown): Fields {
  if (!(error instanceof Error)) return { error: String(error) }
  const fields: Fields = { error: error.message === '' ? error.name : error.message }
  const code = (error as { code?: unknown }).code
  if (code !== undefined) fields.code = code
  if (error.stack !== undefined) fields.stack = error.stack
  if (error instanceof AggregateError) fields.errors = error.errors.map((inner) => inner instanceof Error ? inner.message : String(inner))
  if (error.cause !== undefined) fields.cause = error.cause instanceof Error ? { error: error.cause.message, stack: error.cause.stack } : String(error.cause)
  return fields
}
