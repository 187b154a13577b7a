import t from 'tap'
import { fork } from 'node:child_process'
import { join } from 'node:path'
import { root } from './helpers/server.ts'
import type { ChildMessage } from '../src/children.ts'

// A worker or coordinator that dies anyway (an error nobody handled) is never silent: it logs the error with its
// stack, tells the supervisor what it died of (which the supervisor puts in its error line), and exits 1.

t.test('an unhandled error: logged, reported to the parent, exit code 1', async (t) => {
  const child = fork(join(root, 'test/fixtures/fatal-child.ts'), ['socket is null'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] })
  // The log is on stdout, errors included (src/log.ts), in the order things happened.
  let stdout = ''
  child.stdout?.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
  const messages: ChildMessage[] = []
  child.on('message', (message: ChildMessage) => messages.push(message))
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)))
  t.equal(code, 1, 'exit code 1: the process does not carry on in an unknown state')
  t.match(messages, [{ type: 'fatal', error: 'socket is null', stack: /TypeError: socket is null/ }], 'the parent is told why')
  const line = JSON.parse(stdout.split('\n').find((l) => l.includes('fatal: unhandled error')) ?? '{}') as Record<string, unknown>
  t.match(line, { level: 'error', msg: 'fatal: unhandled error, exiting', error: 'socket is null' }, 'and it is in the log')
})
