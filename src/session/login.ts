/**
 * Sessions for the command line: `iam login` signs in through Kratos' self-service login flow — the API flow for a
 * session token (`Authorization: Bearer`), the browser flow for a curl cookie jar — with a password or a one-time code
 * read from the mail catcher; `iam whoami` shows the session behind a token or a jar. The token and the cookie are
 * secrets: returned to the caller, never logged.
 */
import {readFile} from 'node:fs/promises'

import {ExitCode, IamError} from '../errors.js'
import type {KratosPublicClient, LoginCredentials, SessionView} from '../ory/kratos-client.js'
import {writeFileAtomic} from '../util/atomic-write.js'
import {cookieHeaderFromJar, renderCookieJar} from './cookie-jar.js'

export interface LoginRequest {
  email: string
  /** A password, or a function that reads the one-time code Kratos mailed (`--code`). */
  secret: {password: string} | {code: () => Promise<string>}
  /** Write a curl cookie jar here instead of answering a token. */
  cookieJar?: string
}

export interface LoginResult {
  identity: {id: string; email?: string; roles: string[]}
  session: {id: string; expiresAt?: string; methods: string[]}
  /** For `Authorization: Bearer` (absent with a cookie jar). */
  sessionToken?: string
  /** The jar written (with --cookie-jar). */
  cookieJar?: string
}

export interface WhoamiResult {
  identity: {id: string; email?: string; roles: string[]; traits: Record<string, unknown>}
  session: {id: string; active: boolean; expiresAt?: string; authenticatedAt?: string; methods: string[]; aal?: string}
}

export async function login(kratosPublic: KratosPublicClient, kratosPublicUrl: string, request: LoginRequest): Promise<LoginResult> {
  const credentials: LoginCredentials =
    'password' in request.secret ? {method: 'password', identifier: request.email, password: request.secret.password} : {method: 'code', identifier: request.email, code: request.secret.code}
  const outcome = await kratosPublic.login(credentials, {flow: request.cookieJar === undefined ? 'api' : 'browser'})
  if (outcome.result === 'invalid-credentials') {
    throw new IamError('LOGIN_REFUSED', `Kratos refused the ${credentials.method === 'password' ? 'password' : 'code'} for ${request.email}.`, {
      exitCode: ExitCode.Failure,
      suggestion: credentials.method === 'password' ? 'Check the email and password (iam identities list shows who exists).' : 'Ask for a new code: run iam login --code again.',
    })
  }
  if (outcome.result === 'refused') {
    throw new IamError('LOGIN_FAILED', `Kratos did not complete the login of ${request.email}: ${outcome.reason}.`, {
      exitCode: ExitCode.Failure,
      suggestion: credentials.method === 'code' ? 'Is the one-time code login on? Set kratos.methods.code: true in iam.yaml and run iam up.' : 'Is the password login on? Check kratos.methods in iam.yaml.',
    })
  }
  const base = summary(outcome.session)
  if (request.cookieJar === undefined) {
    if (!outcome.sessionToken) throw new IamError('LOGIN_FAILED', 'Kratos answered the login without a session token.', {exitCode: ExitCode.Failure})
    return {...base, sessionToken: outcome.sessionToken}
  }
  const host = new URL(kratosPublicUrl).hostname
  await writeFileAtomic(request.cookieJar, renderCookieJar(host, outcome.cookies ?? []), {mode: 0o600})
  return {...base, cookieJar: request.cookieJar}
}

/** The session behind a token or a cookie jar; SESSION_INVALID (exit 1) when Kratos does not know it. */
export async function whoami(kratosPublic: KratosPublicClient, kratosPublicUrl: string, credential: {sessionToken: string} | {cookieJar: string}): Promise<WhoamiResult> {
  let session: SessionView | undefined
  if ('sessionToken' in credential) session = await kratosPublic.whoami({sessionToken: credential.sessionToken})
  else {
    const jar = await readFile(credential.cookieJar, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new IamError('FILE_UNREADABLE', `Cannot read the cookie jar ${credential.cookieJar}: ${error.code ?? error.message}.`, {exitCode: ExitCode.Usage})
    })
    const cookie = cookieHeaderFromJar(jar, new URL(kratosPublicUrl).hostname)
    session = cookie === '' ? undefined : await kratosPublic.whoami({cookie})
  }
  if (!session) {
    throw new IamError('SESSION_INVALID', 'Kratos knows no active session for these credentials (expired, signed out, or from another stack).', {
      exitCode: ExitCode.Failure,
      suggestion: 'Sign in again: iam login --email <email>.',
    })
  }
  const {identity} = summary(session)
  return {
    identity: {...identity, traits: session.identity.traits},
    session: {
      id: session.id,
      active: session.active,
      methods: session.methods,
      ...(session.expiresAt ? {expiresAt: session.expiresAt} : {}),
      ...(session.authenticatedAt ? {authenticatedAt: session.authenticatedAt} : {}),
      ...(session.aal ? {aal: session.aal} : {}),
    },
  }
}

function summary(session: SessionView): Pick<LoginResult, 'identity' | 'session'> {
  const email = session.identity.traits.email
  const roles = session.identity.metadataPublic?.roles
  return {
    identity: {id: session.identity.id, ...(typeof email === 'string' ? {email} : {}), roles: Array.isArray(roles) ? roles.filter((r): r is string => typeof r === 'string') : []},
    session: {id: session.id, methods: session.methods, ...(session.expiresAt ? {expiresAt: session.expiresAt} : {})},
  }
}
