/** `iam serve mail`: the native runtime's mail catcher (SMTP in, an inbox page and JSON API out). */
export {MAIL_CATCHER_DEFAULTS} from './defaults.js'
export {startMailCatcher, type MailCatcher, type MailCatcherOptions, type MailView} from './server.js'
export {findCode, MailStore, type CaughtMail, type MailQuery} from './store.js'
