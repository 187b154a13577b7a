import { configFromParent } from '../src/config.ts'
import { log, setProcessName } from '../src/log.ts'
import { childEnv, exitOnFatal, onParentMessage, tellParent } from '../src/children.ts'
import { startCoordinator } from './start.ts'

// The one process per instance that holds what workers share (architecture.md §1): coordinator/start.ts, run as
// the primary's child.

setProcessName('coordinator')
exitOnFatal(log.error)
const config = configFromParent()
const { socketPath, instance, restarts } = childEnv()
const coordinator = await startCoordinator({ config, socketPath, instance, restarts })
log.info('coordinator listening', { socketPath, workers: config.webConcurrency })
tellParent({ type: 'ready' })

// The primary decides when the coordinator stops: after the workers, which may still need it while they drain. A
// signal to the whole process group (SIGTERM from a host, Ctrl-C, a closed terminal) is the primary's to handle.
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => {})
onParentMessage((message) => {
  if (message.type === 'shutdown') void coordinator.close().finally(() => process.exit(0))
})
