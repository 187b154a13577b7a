// One line of JSON per event on stdout: Render and any log shipper parse it, and a person can still read it.
// Secrets never pass through here: callers log names and counts, not credentials or request bodies.
export type Level = 'debug' | 'info' | 'warn' | 'error'
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 }
const threshold = order[(process.env.LOG_LEVEL as Level | undefined) ?? 'info'] ?? order.info

let processName = 'primary'

export type LogSink = (line: string, level: Level) => void

// Where the lines go when not to stdout/stderr: the in-process route tests run the server's code inside the test
// process, whose stdout is the TAP stream, and read its lines back from here.
let sink: LogSink | null = null

export function setLogSink (next: LogSink | null): void {
  sink = next
}

export function setProcessName (name: string): void {
  processName = name
}

function write (level: Level, msg: string, fields?: Record<string, unknown>): void {
  if (order[level] < threshold) return
  const line = JSON.stringify({ t: new Date().toISOString(), level, proc: processName, pid: process.pid, msg, ...fields })
  if (sink !== null) sink(line, level)
  else if (level === 'error' || level === 'warn') process.stderr.write(line + '\n')
  else process.stdout.write(line + '\n')
}

export const log = {
  debug: (msg: string, fields?: Record<string, unknown>) => write('debug', msg, fields),
  info: (msg: string, fields?: Record<string, unknown>) => write('info', msg, fields),
  warn: (msg: string, fields?: Record<string, unknown>) => write('warn', msg, fields),
  error: (msg: string, fields?: Record<string, unknown>) => write('error', msg, fields)
}

export function errorFields (error: unknown): Record<string, unknown> {
  if (error instanceof Error) return { error: error.message, code: (error as { code?: unknown }).code }
  return { error: String(error) }
}
