/**
 * The mail catcher's defaults and its settings → options, with iam's precedence: what was given (a flag, or its
 * environment variable) wins, then iam.yaml, then MAIL_CATCHER_DEFAULTS. Pure, and apart from the server so that
 * --help does not load SMTP and MIME parsing.
 */
import type {IamConfig} from '../../config/model.js'
import {portValue, positiveInt, precedence, sizeValue} from '../../util/values.js'
import type {Logger} from '../http/index.js'

export const MAIL_CATCHER_DEFAULTS = {
  host: '127.0.0.1',
  smtpPort: 1025,
  httpPort: 4436,
  maxMessages: 500,
  maxMessageBytes: 1024 * 1024,
} as const

export interface MailCatcherSettings {
  host?: string
  smtpPort?: number
  httpPort?: number
  maxMessages?: number
  maxSize?: string
}

export interface ResolvedMailCatcherOptions {
  host: string
  smtpPort: number
  httpPort: number
  maxMessages: number
  maxMessageBytes: number
  logger: Logger
}

/** What the catcher takes from iam.yaml: both of its ports. */
export function mailCatcherSettingsFrom(config: IamConfig): MailCatcherSettings {
  return {smtpPort: config.ports.mailSmtp, httpPort: config.ports.mailUi}
}

export function resolveMailCatcherOptions(given: MailCatcherSettings, fromConfig: MailCatcherSettings, logger: Logger): ResolvedMailCatcherOptions {
  const d = MAIL_CATCHER_DEFAULTS
  const pick = precedence(given, fromConfig)
  return {
    host: pick('host') ?? d.host,
    smtpPort: portValue('smtp-port', pick('smtpPort') ?? d.smtpPort),
    httpPort: portValue('port', pick('httpPort') ?? d.httpPort),
    maxMessages: positiveInt('max-messages', pick('maxMessages')) ?? d.maxMessages,
    maxMessageBytes: sizeValue('max-size', pick('maxSize')) ?? d.maxMessageBytes,
    logger,
  }
}
