import {hasEnvRefs} from './env.js'
import type {IamConfig} from './model.js'

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]'])

/**
 * True when Kratos mails to the catcher iam runs (ports.mailSmtp on this machine, the default) rather than to an SMTP
 * server of the user's: the native runtime then starts `iam serve mail`, the compose file routes it to Mailpit.
 * A `${VAR}` URL is the user's: it is resolved at run time, never ours to guess.
 */
export function usesMailCatcher(config: IamConfig): boolean {
  const {smtpUrl} = config.kratos
  if (hasEnvRefs(smtpUrl)) return false
  try {
    const url = new URL(smtpUrl)
    return LOOPBACK_HOSTS.has(url.hostname) && url.port === String(config.ports.mailSmtp)
  } catch {
    return false
  }
}
