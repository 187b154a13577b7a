import type { Config, ServiceAccount } from '../config.ts'

// Whether push notifications are on, from the configuration alone (a health check never calls Google): on with a
// service-account key in FCM_SERVICE_ACCOUNT, off without one. The coordinator sends (src/push/sender.ts); the
// workers register devices and say on /health whether anything will be sent.

export interface PushSettings {
  account: ServiceAccount | null
  endpoint: string // FCM's base URL: messages go to <endpoint>/v1/projects/<project>/messages:send
}

export function pushSettings (config: Config): PushSettings {
  return { account: config.fcmServiceAccount, endpoint: config.fcmEndpoint }
}

export function pushHealth (settings: PushSettings): Record<string, unknown> {
  return settings.account === null
    ? { status: 'disabled', configured: false, message: 'FCM_SERVICE_ACCOUNT is not set: no push notifications are sent' }
    : { status: 'ok', configured: true, project_id: settings.account.projectId }
}
