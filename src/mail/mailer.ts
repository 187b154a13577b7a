import { createTransport } from 'nodemailer'
import type { Config } from '../config.ts'
import { errorFields, log } from '../log.ts'

// Outgoing e-mail: only password-reset links today (legacy-api.md §2.2, §5.4). nodemailer speaks SMTP to `SMTP_URL`;
// without it (development and tests only: production refuses to start, src/config.ts) the message is written to the
// log instead, where a developer can follow the link. Sending is never awaited by a request: the caller fires it
// after answering, and a failure is logged (legacy swallowed it silently, and sent inside the request).

export interface Mail {
  to: string
  subject: string
  text: string
  html: string
}

export interface Mailer {
  send: (mail: Mail) => Promise<void>
}

// A mail server that accepts a connection and then stalls must not hold a socket for minutes.
const TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 }

export function createMailer (config: Pick<Config, 'smtpUrl' | 'mailFrom'>): Mailer {
  if (config.smtpUrl === null) {
    return {
      send: async (mail) => {
        log.info('mail not sent (SMTP_URL is unset): written here instead', { to: mail.to, subject: mail.subject, text: mail.text })
      }
    }
  }
  const transport = createTransport({ url: config.smtpUrl, ...TIMEOUTS })
  return {
    send: async (mail) => {
      await transport.sendMail({ from: config.mailFrom, ...mail })
    }
  }
}

// Fire and forget, with the failure logged (the recipient's address only: the body carries a reset link).
export function sendInBackground (mailer: Mailer, mail: Mail): void {
  mailer.send(mail).catch((error: unknown) => log.warn('mail not delivered', { to: mail.to, subject: mail.subject, ...errorFields(error) }))
}

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

// Legacy's subject and wording, with the link in both parts.
export function passwordResetMail (to: string, link: string, ttlMinutes: number): Mail {
  return {
    to,
    subject: 'Reset your password',
    text: `Use the following link to reset your password: ${link}\n\nThe link works once, for ${ttlMinutes} minutes. If you did not ask for it, ignore this e-mail: your password stays as it is.`,
    html: `<p>Hello,</p><p>Click the link below to reset your password:</p><p><a href="${escapeHtml(link)}">Reset Password</a></p>` +
      `<p>The link works once, for ${ttlMinutes} minutes. If you did not request this, you can ignore this email.</p>`
  }
}
