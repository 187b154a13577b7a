// A worker thread does not inherit the TypeScript loader of the thread that starts it (tsx's hooks are registered
// per thread on Node 20): the generator's thread registers them itself, then loads the generator.
import { register } from 'tsx/esm/api'

register()
await import('./generator.ts')
