// The contract between the primary and the processes it forks: what it tells them in their environment, and the
// two messages they exchange over the fork channel. The primary imports this file, never workers/ or coordinator/.

export const CHILD_ENV = {
  role: 'TABEBY_ROLE',
  workerId: 'TABEBY_WORKER_ID',
  socketPath: 'TABEBY_COORDINATOR_SOCKET',
  dbShare: 'TABEBY_DB_SHARE',
  instance: 'TABEBY_INSTANCE'
} as const

export type ParentMessage = { type: 'shutdown' }
export type ChildMessage = { type: 'ready' }

export interface ChildEnv {
  workerId: number
  socketPath: string
  dbShare: number
  instance: string
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
    instance: read(CHILD_ENV.instance)
  }
}

export function tellParent (message: ChildMessage): void {
  process.send?.(message)
}

export function onParentMessage (handler: (message: ParentMessage) => void): void {
  process.on('message', (message: ParentMessage) => handler(message))
  // The fork channel closes when the primary dies (even by SIGKILL): a child must not outlive it and keep the
  // port, so it leaves too.
  process.on('disconnect', () => handler({ type: 'shutdown' }))
}
