import {createHash, timingSafeEqual} from 'node:crypto'
import {readFile, stat} from 'node:fs/promises'

import {ExitCode, IamError} from '../../errors.js'

/*
 * The shared key of a web hook a server of ours answers (the role webhook Kratos calls, the token hook Hydra calls):
 * loaded from a file or the environment, refused when short, presented as `Authorization: Bearer <key>`, compared in
 * constant time.
 */

/**
 * The header Kratos' web_hook `auth: {type: api_key, config: {name, value, in: header}}` sends: `Authorization:
 * Bearer <secret>`. Kratos logs every hook request's headers and redacts only Authorization, Cookie, Set-Cookie and
 * X-Session-Token; a custom header name put the secret into kratos.log on every login.
 */
export const WEBHOOK_SECRET_HEADER = 'authorization'

/** The secret in an `Authorization: Bearer <secret>` header, or undefined. */
export function presentedSecret(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string' || header.slice(0, 7).toLowerCase() !== 'bearer ') return undefined
  return header.slice(7)
}
/** Shorter secrets are refused: the header is the only thing standing between the internet and what the hook does. */
export const MIN_SECRET_LENGTH = 16

/**
 * Compares a presented secret with the expected one in constant time. Both are hashed first so the comparison
 * runs over equal-length digests (timingSafeEqual throws on a length mismatch, which would leak the length).
 */
export function secretMatches(expectedDigest: Buffer, presented: string | string[] | undefined): boolean {
  if (typeof presented !== 'string') return false
  const digest = createHash('sha256').update(presented, 'utf8').digest()
  return timingSafeEqual(digest, expectedDigest)
}

export function secretDigest(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest()
}

/**
 * The hook's key from --secret-file (trailing newline trimmed) or $<envName>. Refuses to run
 * without one, or with one too short to resist guessing. Never echoes the value.
 */
export async function loadWebhookSecret(o: {envName: string; server: string; secretFile?: string; env?: NodeJS.ProcessEnv; warn?: (message: string) => void}): Promise<string> {
  const {envName, server} = o
  let secret: string | undefined
  let source: string
  if (o.secretFile !== undefined) {
    source = o.secretFile
    try {
      const s = await stat(o.secretFile)
      if ((s.mode & 0o077) !== 0 && process.platform !== 'win32') {
        o.warn?.(`${o.secretFile} is readable by other users; chmod 600 it.`)
      }
      secret = (await readFile(o.secretFile, 'utf8')).replace(/\r?\n$/, '')
    } catch (error) {
      throw new IamError('WEBHOOK_SECRET_UNREADABLE', `Cannot read the webhook secret file ${o.secretFile}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`, {
        exitCode: ExitCode.Usage,
      })
    }
  } else {
    source = `$${envName}`
    secret = (o.env ?? process.env)[envName]
  }
  if (!secret) {
    throw new IamError('WEBHOOK_SECRET_MISSING', `${server} needs a shared secret and has none: refusing to start.`, {
      exitCode: ExitCode.Usage,
      suggestion: `Set ${envName} (iam render writes one into .env) or pass --secret-file.`,
    })
  }
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new IamError('WEBHOOK_SECRET_WEAK', `The webhook secret from ${source} is shorter than ${MIN_SECRET_LENGTH} characters.`, {
      exitCode: ExitCode.Usage,
      suggestion: 'Use a random secret, e.g. `openssl rand -base64 32`.',
    })
  }
  return secret
}
