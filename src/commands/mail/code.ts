import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {durationFlag} from '../../cli/flags.js'
import {mailInboxFlags, openInbox} from '../../cli/mail-inbox.js'

export default class MailCode extends BaseCommand<typeof MailCode> {
  static override summary = 'Print the one-time code of the newest mail to an address (waits for it).'

  static override description = `Reads the native runtime's mail catcher (\`iam serve mail\`, started by \`iam up\`): the newest mail to --to that carries a 6-digit code — login, registration, verification or recovery. Prints just the code, so scripts can use CODE=$(iam mail code --to ada@example.com). Waits up to --wait for it to arrive (Kratos' courier sends queued mail about once a second). Exit 1 when no such mail came in time, 3 when no catcher answers.`

  static override examples = [
    {description: 'After asking Kratos for a login code', command: '<%= config.bin %> mail code --to ada@example.com'},
    {description: 'Only a code newer than mail #12, with the mail as JSON', command: '<%= config.bin %> mail code --to ada@example.com --newer-than 12 --json'},
  ]

  static override flags = {
    to: Flags.string({description: 'Recipient address.', required: true}),
    wait: durationFlag({description: 'How long to wait for the mail, e.g. 10s (0s: do not wait).', default: 10_000, min: 0}),
    'newer-than': Flags.integer({description: 'Ignore mails with this id or lower (ids come from `iam mail list`).', min: 0}),
    ...mailInboxFlags,
  }

  async run(): Promise<{code: string; id: number; to: string[]; subject: string; receivedAt: string}> {
    const waitMs = this.flags.wait
    const inbox = await openInbox(this.flags)
    const mail = await inbox.waitForCode(this.flags.to, {waitMs, ...(this.flags['newer-than'] === undefined ? {} : {newerThan: this.flags['newer-than']})})
    if (!this.jsonEnabled()) this.logValue(mail.code)
    return {code: mail.code, id: mail.id, to: mail.to, subject: mail.subject, receivedAt: mail.receivedAt}
  }
}
