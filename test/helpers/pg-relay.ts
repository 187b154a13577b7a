import { createServer, connect, type AddressInfo, type Socket } from 'node:net'

// A loopback TCP relay in front of PostgreSQL, for tests that watch or break the wire between a pool and the
// database for real: count round trips (the taps see every chunk, by direction and connection), or reset one
// connection with an RST (`links`, in the order they were opened).

export interface RelayLink { client: Socket, upstream: Socket }

export interface RelayTaps {
  fromClient?: (chunk: Buffer, link: RelayLink) => void
  fromServer?: (chunk: Buffer, link: RelayLink) => void
}

export interface Relay {
  /** The database URL with the relay's port in it. */
  url: string
  links: RelayLink[]
  close: () => Promise<void>
}

export async function startRelay (databaseUrl: string, taps: RelayTaps = {}): Promise<Relay> {
  const target = new URL(databaseUrl)
  const links: RelayLink[] = []
  const server = createServer((client) => {
    const link = { client, upstream: connect(Number(target.port), target.hostname) }
    links.push(link)
    client.on('data', (chunk: Buffer) => { taps.fromClient?.(chunk, link); link.upstream.write(chunk) })
    link.upstream.on('data', (chunk: Buffer) => { taps.fromServer?.(chunk, link); client.write(chunk) })
    const end = (): void => { client.destroy(); link.upstream.destroy() }
    client.on('close', end).on('error', end)
    link.upstream.on('close', end).on('error', end)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = new URL(databaseUrl)
  url.port = String((server.address() as AddressInfo).port)
  return {
    url: url.toString(),
    links,
    close: async () => {
      for (const { client, upstream } of links) { client.destroy(); upstream.destroy() }
      await new Promise((resolve) => server.close(resolve))
    }
  }
}
