import { setLogSink } from '../../src/log.ts'

// Server code that runs inside a test process (the in-process app, embedded PostgreSQL's start-up) logs here
// instead of onto stdout, which is tap's stream. A test reads the lines back; a file that fails prints the last of
// them to stderr, where a person looking into the failure finds them.

const MAX_LINES = 100_000
const lines: string[] = []
let dropped = 0

setLogSink((line) => {
  if (lines.length >= MAX_LINES) {
    lines.shift()
    dropped++
  }
  lines.push(line.endsWith('\n') ? line.slice(0, -1) : line)
})

// A position in the log, to read what was logged after it.
export function logMark (): number {
  return dropped + lines.length
}

export function logSince (mark: number): string {
  return lines.slice(Math.max(0, mark - dropped)).join('\n')
}

process.on('exit', (code) => {
  if (code !== 0 && lines.length > 0) process.stderr.write(`last lines logged in this test process:\n${lines.slice(-200).join('\n')}\n`)
})
