/** `iam serve mail`: the native runtime's mail catcher (SMTP in, an inbox page and JSON API out). */
export {startMailCatcher, type MailCatcher, type MailView} from './server.js'
export {findCode, MailStore} from './store.js'
