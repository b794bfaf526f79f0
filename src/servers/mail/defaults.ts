/** Defaults of `iam serve mail`, apart from the server so that --help does not load SMTP and MIME parsing. */
export const MAIL_CATCHER_DEFAULTS = {
  host: '127.0.0.1',
  smtpPort: 1025,
  httpPort: 4436,
  maxMessages: 500,
  maxMessageBytes: 1024 * 1024,
} as const
