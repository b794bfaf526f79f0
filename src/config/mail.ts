import {isLoopbackUrl, portOf} from './addresses.js'
import {hasEnvRefs} from './env.js'
import type {IamConfig} from './model.js'

/**
 * True when Kratos mails to the catcher iam runs (ports.mailSmtp on this machine, the default) rather than to an SMTP
 * server of the user's: the native runtime then starts `iam serve mail`, the compose file routes it to Mailpit.
 * A `${VAR}` URL is the user's: it is resolved at run time, never ours to guess.
 */
export function usesMailCatcher(config: IamConfig): boolean {
  const {smtpUrl} = config.kratos
  return !hasEnvRefs(smtpUrl) && isLoopbackUrl(smtpUrl) && portOf(smtpUrl) === config.ports.mailSmtp
}
