import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { exportPKCS8, exportSPKI, generateKeyPair, importSPKI, jwtVerify } from 'jose'

// A stand-in for Google's OAuth token endpoint and FCM's HTTP v1 send endpoint, on loopback: it checks what the
// real ones check (the service account's signed JWT assertion, the Bearer token on each send, the message's
// shape) and records every message it accepted. `failNext(n)` answers the next n sends 503, as FCM does when it is
// overloaded.

export interface ReceivedMessage {
  token: string
  notification: { title: string, body: string }
  data: Record<string, string>
}

export interface FcmStandIn {
  env: Record<string, string> // FCM_SERVICE_ACCOUNT and FCM_ENDPOINT for a server that sends here
  received: ReceivedMessage[]
  refused: Array<{ status: number, reason: string }>
  tokensIssued: () => number
  failNext: (n: number) => void
  close: () => Promise<void>
}

const PROJECT = 'tabeby-test'
const CLIENT_EMAIL = 'push@tabeby-test.iam.gserviceaccount.com'

async function bodyOf (req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString()
}

export async function startFcm (): Promise<FcmStandIn> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true })
  const verifyKey = await importSPKI(await exportSPKI(publicKey), 'RS256')
  const issued = new Set<string>()
  const received: ReceivedMessage[] = []
  const refused: FcmStandIn['refused'] = []
  let failures = 0
  let base = ''

  const answer = (res: ServerResponse, status: number, value: unknown): void => {
    res.writeHead(status, { 'Content-Type': 'application/json' })
    res.end(JSON.stringify(value))
  }
  const refuse = (res: ServerResponse, status: number, reason: string): void => {
    refused.push({ status, reason })
    answer(res, status, { error: { code: status, message: reason } })
  }

  const server = createServer((req, res) => {
    void (async () => {
      const text = await bodyOf(req)
      if (req.method === 'POST' && req.url === '/token') {
        const form = new URLSearchParams(text)
        if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return refuse(res, 400, 'grant_type')
        try {
          const { payload } = await jwtVerify(form.get('assertion') ?? '', verifyKey, { issuer: CLIENT_EMAIL, audience: `${base}/token` })
          if (payload['scope'] !== 'https://www.googleapis.com/auth/firebase.messaging') return refuse(res, 400, 'scope')
        } catch (error) {
          return refuse(res, 400, `assertion: ${String(error)}`)
        }
        const token = `ya29.standin-${issued.size + 1}`
        issued.add(token)
        return answer(res, 200, { access_token: token, expires_in: 3599, token_type: 'Bearer' })
      }
      if (req.method === 'POST' && req.url === `/v1/projects/${PROJECT}/messages:send`) {
        const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]
        if (bearer === undefined || !issued.has(bearer)) return refuse(res, 401, 'authorization')
        if (failures > 0) {
          failures--
          return refuse(res, 503, 'overloaded (as asked)')
        }
        const body = JSON.parse(text) as { message?: ReceivedMessage }
        const message = body.message
        const stringsOnly = (value: unknown): boolean => typeof value === 'object' && value !== null && Object.values(value).every((v) => typeof v === 'string')
        if (typeof message?.token !== 'string' || typeof message.notification?.title !== 'string' || typeof message.notification.body !== 'string' || !stringsOnly(message.data)) {
          return refuse(res, 400, `shape: ${text}`)
        }
        received.push({ token: message.token, notification: message.notification, data: message.data })
        return answer(res, 200, { name: `projects/${PROJECT}/messages/${received.length}` })
      }
      refuse(res, 404, `${req.method ?? ''} ${req.url ?? ''}`)
    })()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const account = {
    type: 'service_account',
    project_id: PROJECT,
    private_key_id: 'standin',
    private_key: await exportPKCS8(privateKey),
    client_email: CLIENT_EMAIL,
    token_uri: `${base}/token`
  }
  return {
    env: { FCM_SERVICE_ACCOUNT: Buffer.from(JSON.stringify(account)).toString('base64'), FCM_ENDPOINT: base },
    received,
    refused,
    tokensIssued: () => issued.size,
    failNext: (n) => { failures = n },
    close: () => new Promise((resolve) => server.close(() => resolve()))
  }
}
