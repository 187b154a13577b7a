import { createRequire } from 'node:module'
import type * as Uws from 'uWebSockets.js'

export type { HttpRequest, HttpResponse, TemplatedApp, us_listen_socket as ListenSocket } from 'uWebSockets.js'

export interface Engine {
  name: 'uWebSockets.js'
  native: true
  version: string
  binary: string
}

// The uWebSockets.js build we install (an npm alias of @trufflesuite/uws-js-unofficial) quietly swaps in a
// pure-JS server when its native binary does not load, or when UWS_USE_FALLBACK is set. That server is several
// times slower and would make every benchmark and capacity figure a lie, so we refuse to start on it.
export function loadUws (): { uws: typeof Uws, engine: Engine } {
  const require = createRequire(import.meta.url)
  const fallbackFlag = process.env.UWS_USE_FALLBACK
  if (fallbackFlag !== undefined && fallbackFlag !== '' && fallbackFlag !== '0' && fallbackFlag.toLowerCase() !== 'false') {
    throw new Error('UWS_USE_FALLBACK is set: the pure-JS uWebSockets.js fallback is not allowed; unset it')
  }
  const uws = require('uWebSockets.js') as typeof Uws
  if (!Function.prototype.toString.call(uws.App).includes('[native code]')) {
    throw new Error(
      `uWebSockets.js loaded its pure-JS fallback: no native binary for ${process.platform}-${process.arch} ` +
      `with Node ABI ${process.versions.modules} (Node ${process.version}). Use Node 20 on linux-x64, or a build of ` +
      'uWebSockets.js that has a binary for this platform.'
    )
  }
  const pkg = require('uWebSockets.js/package.json') as { version: string }
  return {
    uws,
    engine: {
      name: 'uWebSockets.js',
      native: true,
      version: pkg.version,
      binary: `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`
    }
  }
}
