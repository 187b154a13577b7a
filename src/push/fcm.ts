import { SignJWT, importPKCS8, type CryptoKey } from 'jose'
import type { ServiceAccount } from '../config.ts'

// Firebase Cloud Messaging, HTTP v1 API. The service account signs a JWT (RS256, jose), trades it at its token_uri
// for an OAuth access token (kept until a minute before it expires), and each message is one POST to
// <endpoint>/v1/projects/<project>/messages:send with that token. Written here rather than with firebase-admin: two
// HTTP calls do not need a 30 MB SDK and its own credential discovery.

const SCOPE = 'https://www.googleapis.com/auth/firebase.messaging'
const TIMEOUT_MS = 10_000

export interface PushMessage {
  token: string // the device's registration token
  title: string
  body: string
  data: Record<string, string> // FCM data values are strings
}

// `retry`: worth sending again later (the network, a 429, a 5xx); otherwise the message can never be delivered (an
// unregistered device, a malformed token).
export type SendResult = { ok: true } | { ok: false, retry: boolean, error: string }

export class FcmClient {
  private key: Promise<CryptoKey> | null = null
  private access: { token: string, until: number } | null = null
  counters = { tokens: 0, sent: 0, failed: 0 }

  constructor (private readonly account: ServiceAccount, private readonly endpoint: string) {}

  async send (message: PushMessage): Promise<SendResult> {
    let token: string
    try {
      token = await this.accessToken()
    } catch (error) {
      return { ok: false, retry: true, error: `access token: ${error instanceof Error ? error.message : String(error)}` }
    }
    let res: globalThis.Response
    try {
      res = await fetch(`${this.endpoint}/v1/projects/${encodeURIComponent(this.account.projectId)}/messages:send`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json; charset=utf-8' },
        body: JSON.stringify({
          message: {
            token: message.token,
            notification: { title: message.title, body: message.body },
            data: message.data,
            android: { priority: 'high' }
          }
        }),
        signal: AbortSignal.timeout(TIMEOUT_MS)
      })
    } catch (error) {
      return { ok: false, retry: true, error: error instanceof Error ? error.message : String(error) }
    }
    const text = await res.text().catch(() => '')
    if (res.ok) {
      this.counters.sent++
      return { ok: true }
    }
    this.counters.failed++
    // A token Google refused is dropped at once; the next send signs in again.
    if (res.status === 401) this.access = null
    return { ok: false, retry: res.status === 401 || res.status === 429 || res.status >= 500, error: `FCM ${res.status}: ${text.slice(0, 300)}` }
  }

  private async accessToken (): Promise<string> {
    if (this.access !== null && Date.now() < this.access.until) return this.access.token
    this.key ??= importPKCS8(this.account.privateKey, 'RS256')
    const now = Math.floor(Date.now() / 1000)
    const assertion = await new SignJWT({ scope: SCOPE })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
      .setIssuer(this.account.clientEmail)
      .setSubject(this.account.clientEmail)
      .setAudience(this.account.tokenUri)
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .sign(await this.key)
    const res = await fetch(this.account.tokenUri, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }).toString(),
      signal: AbortSignal.timeout(TIMEOUT_MS)
    })
    if (!res.ok) throw new Error(`token endpoint answered ${res.status}`)
    const answer = await res.json() as { access_token?: unknown, expires_in?: unknown }
    if (typeof answer.access_token !== 'string') throw new Error('token endpoint answered no access_token')
    const seconds = typeof answer.expires_in === 'number' ? answer.expires_in : 3600
    this.counters.tokens++
    this.access = { token: answer.access_token, until: Date.now() + Math.max(0, seconds - 60) * 1000 }
    return answer.access_token
  }
}
