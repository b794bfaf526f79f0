import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {mailInboxFlags, openInbox} from '../../cli/mail-inbox.js'
import type {MailView} from '../../servers/mail/server.js'

export default class MailList extends BaseCommand<typeof MailList> {
  static override summary = "List the mails the native runtime's mail catcher received, newest first."

  static override description = `Reads \`iam serve mail\` (started by \`iam up\` when kratos.smtpUrl is ports.mailSmtp on this machine). Each row: id, time, recipients, subject and the one-time code found in the mail. --json adds the text and HTML bodies. Under the compose runtime the catcher is Mailpit: open the Mail UI of \`iam status\` instead.`

  static override examples = [
    '<%= config.bin %> mail list',
    '<%= config.bin %> mail list --to ada@example.com --limit 1 --json',
    '<%= config.bin %> mail list --clear',
  ]

  static override flags = {
    to: Flags.string({description: 'Only mails to this address.'}),
    limit: Flags.integer({description: 'At most this many.', default: 20, min: 1}),
    clear: Flags.boolean({description: 'Delete the listed recipient’s mails (all mails without --to) after listing them.'}),
    ...mailInboxFlags,
  }

  async run(): Promise<{total: number; messages: MailView[]; deleted?: number}> {
    const inbox = await openInbox(this.flags)
    const {total, messages} = await inbox.list(this.flags.to === undefined ? {} : {to: this.flags.to})
    const shown = messages.slice(0, this.flags.limit)
    const deleted = this.flags.clear ? await inbox.clear(this.flags.to) : undefined
    if (!this.jsonEnabled()) {
      const {formatMailList} = await import('../../ui/mail-format.js')
      this.log(formatMailList(shown, {total, ...(deleted === undefined ? {} : {deleted})}))
    }
    return {total, messages: shown, ...(deleted === undefined ? {} : {deleted})}
  }
}
