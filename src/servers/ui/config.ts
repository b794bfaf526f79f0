/**
 * The sign-in pages' defaults and settings → options, with iam's precedence: what was given (a flag or its
 * environment variable) wins, then iam.yaml (-C), then UI_DEFAULTS. Pure.
 */
import {appUrl, kratosBrowserUrl} from '../../config/browser.js'
import {usesMailCatcher} from '../../config/mail.js'
import type {IamConfig} from '../../config/model.js'
import {durationValue, portValue, precedence} from '../../util/values.js'
import type {Logger} from '../http/index.js'
import type {UiServerOptions} from './server.js'

export const UI_DEFAULTS = {
  host: '127.0.0.1',
  port: 4460,
  kratosPublicUrl: 'http://127.0.0.1:4433',
  browserKratosUrl: 'http://127.0.0.1:4455/.ory/',
  appUrl: 'http://127.0.0.1:4455/app/',
  timeoutMs: 5000,
} as const

export interface UiSettings {
  host?: string
  port?: number
  kratosPublicUrl?: string
  browserKratosUrl?: string
  appUrl?: string
  mailUrl?: string
  timeout?: string
}

/** What the pages take from iam.yaml: their port, Kratos (direct and through the gateway), the app, the inbox. */
export function uiSettingsFrom(config: IamConfig): UiSettings {
  const {ports} = config
  return {
    port: ports.ui,
    kratosPublicUrl: `http://127.0.0.1:${ports.kratosPublic}`,
    browserKratosUrl: kratosBrowserUrl(config),
    appUrl: appUrl(config),
    ...(usesMailCatcher(config) ? {mailUrl: `http://127.0.0.1:${ports.mailUi}/`} : {}),
  }
}

export function resolveUiOptions(given: UiSettings, fromConfig: UiSettings, logger: Logger): UiServerOptions {
  const d = UI_DEFAULTS
  const pick = precedence(given, fromConfig)
  const mailUrl = pick('mailUrl')
  return {
    host: pick('host') ?? d.host,
    port: portValue('port', pick('port') ?? d.port),
    kratosPublicUrl: pick('kratosPublicUrl') ?? d.kratosPublicUrl,
    browserKratosUrl: pick('browserKratosUrl') ?? d.browserKratosUrl,
    appUrl: pick('appUrl') ?? d.appUrl,
    ...(mailUrl ? {mailUrl} : {}),
    timeoutMs: durationValue('timeout', pick('timeout')) ?? d.timeoutMs,
    logger,
  }
}
