import { configFromParent } from '../src/config.ts'
import { log, setProcessName } from '../src/log.ts'
import { childEnv, onParentMessage, tellParent } from '../src/children.ts'
import { startCoordinator } from './start.ts'

// The one process per instance that holds what workers share (architecture.md §1): coordinator/start.ts, run as
// the primary's child.

setProcessName('coordinator')
const config = configFromParent()
const { socketPath, instance } = childEnv()
const coordinator = await startCoordinator({ config, socketPath, instance })
log.info('coordinator listening', { socketPath, workers: config.webConcurrency })
tellParent({ type: 'ready' })

process.on('SIGINT', () => {}) // the primary decides when the coordinator stops
onParentMessage((message) => {
  if (message.type === 'shutdown') void coordinator.close().finally(() => process.exit(0))
})
