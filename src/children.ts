// The contract between the primary and the processes it forks: what it tells them in their environment, and the
// two messages they exchange over the fork channel. The primary imports this file, never workers/ or coordinator/.

export const CHILD_ENV = {
  role: 'TABEBY_ROLE',
  workerId: 'TABEBY_WORKER_ID',
  socketPath: 'TABEBY_COORDINATOR_SOCKET',
  dbShare: 'TABEBY_DB_SHARE',
  instance: 'TABEBY_INSTANCE',
  // How many times the primary has started this child's slot again after a crash: /stats and /metrics show it.
  restarts: 'TABEBY_RESTARTS'
} as const

export type ParentMessage = { type: 'shutdown' }
// `fatal`: the child is about to exit on an error nobody handled; the supervisor names it when it logs the crash.
export type ChildMessage = { type: 'ready' } | { type: 'fatal', error: string, stack: string | null }

export interface ChildEnv {
  workerId: number
  socketPath: string
  dbShare: number
  instance: string
  restarts: number
}

export function childEnv (): ChildEnv {
  const read = (name: string): string => {
    const value = process.env[name]
    if (value === undefined) throw new Error(`${name} is not set: start the server through src/main.ts`)
    return value
  }
  return {
    workerId: Number(process.env[CHILD_ENV.workerId] ?? '0'),
    socketPath: read(CHILD_ENV.socketPath),
    dbShare: Number(read(CHILD_ENV.dbShare)),
    instance: read(CHILD_ENV.instance),
    restarts: Number(process.env[CHILD_ENV.restarts] ?? '0')
  }
}

export function tellParent (message: ChildMessage): void {
  process.send?.(message)
}

// A child that meets an error nobody handled still exits (its state is unknown: swallowing the error would keep a
// half-broken process serving), but first it says what the error was, in the log and to the supervisor.
export function exitOnFatal (log: (msg: string, fields: Record<string, unknown>) => void): void {
  const die = (error: unknown): void => {
    const message = error instanceof Error ? error.message : String(error)
    const stack = error instanceof Error ? error.stack ?? null : null
    log('fatal: unhandled error, exiting', { error: message, stack })
    const exit = (): never => process.exit(1)
    setTimeout(exit, 200).unref()
    if (process.connected) process.send?.({ type: 'fatal', error: message, stack } satisfies ChildMessage, undefined, undefined, exit)
    else exit()
  }
  process.on('uncaughtException', die)
  process.on('unhandledRejection', (reason, promise) => {
    // A postgres.js query that nobody awaited names its statement: the log says which one.
    const strings = (promise as { strings?: unknown }).strings
    if (Array.isArray(strings)) log('the unhandled rejection was a database query', { query: strings.join('$').slice(0, 300) })
    die(reason)
  })
}

export function onParentMessage (handler: (message: ParentMessage) => void): void {
  process.on('message', (message: ParentMessage) => handler(message))
  // The fork channel closes when the primary dies (even by SIGKILL): a child must not outlive it and keep the
  // port, so it leaves too.
  process.on('disconnect', () => handler({ type: 'shutdown' }))
}
