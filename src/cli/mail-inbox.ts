import {Flags} from '@oclif/core'
import {existsSync} from 'node:fs'
import {join, resolve} from 'node:path'

import {PROJECT_FILES} from '../config/model.js'
import {MAIL_CATCHER_DEFAULTS} from '../servers/mail/config.js'
import {durationFlag, stackDirFlag} from './flags.js'

/** Flags of the `iam mail` commands: where the catcher's inbox is. */
export const mailInboxFlags = {
  dir: stackDirFlag,
  url: Flags.string({description: `Inbox URL [default: http://127.0.0.1:<ports.mailUi of iam.yaml>, else port ${MAIL_CATCHER_DEFAULTS.httpPort}].`, env: 'IAM_MAIL_URL'}),
  timeout: durationFlag({description: 'How long each HTTP call may take, e.g. 5s.', default: 5000, min: 100}),
}

/** The inbox of this project's catcher: --url, else ports.mailUi of iam.yaml in --dir, else the default port. */
export async function openInbox(flags: {dir: string; url?: string; timeout: number}): Promise<import('../servers/mail/client.js').MailInbox> {
  const {MailInbox} = await import('../servers/mail/client.js')
  let baseUrl = flags.url
  if (baseUrl === undefined) {
    const projectDir = resolve(flags.dir)
    let port: number = MAIL_CATCHER_DEFAULTS.httpPort
    if (existsSync(join(projectDir, PROJECT_FILES.config))) {
      const {loadConfig} = await import('../config/load.js')
      port = (await loadConfig(projectDir)).config.ports.mailUi
    }
    baseUrl = `http://127.0.0.1:${port}`
  }
  return new MailInbox({baseUrl: baseUrl.replace(/\/+$/, ''), timeoutMs: flags.timeout})
}
