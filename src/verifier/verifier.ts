import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  errors as joseErrors,
  jwtVerify,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWTHeaderParameters,
  type JWTPayload,
  type JWTVerifyOptions,
} from 'jose'

import {VerifyError, toVerifyError} from './errors.js'
import {MemoryReplayCache, type ReplayCache} from './replay-cache.js'

export interface VerifierOptions {
  /** The JWKS endpoint, e.g. Oathkeeper's `http://127.0.0.1:4456/.well-known/jwks.json`. */
  jwksUrl?: string | URL
  /** A static key set (public keys) instead of `jwksUrl`. */
  jwks?: JSONWebKeySet
  /** Accepted `iss` value(s). Required: a verifier that accepts any issuer fails open. */
  issuer: string | string[]
  /** Accepted `aud` value(s): the audience your route's id_token is minted for. Required. */
  audience: string | string[]
  /** Tolerated clock difference for `exp`/`nbf`: milliseconds or a duration ("5s"). Default 5 s. */
  clockSkew?: number | string
  /**
   * Replay protection on `jti`: `true` for a bounded in-memory cache, or your own ReplayCache (e.g. Redis-backed
   * for several instances). Default false. With replay on, tokens without `jti` are rejected as `malformed`.
   */
  replay?: boolean | ReplayCache
  /** Accepted signature algorithms. Default RS256 and ES256 (what Oathkeeper signs with). */
  algorithms?: string[]
  /** jwksUrl only: refetch the key set when it is older than this (ms or duration). Default 30 s. */
  jwksRefresh?: number | string
  /**
   * jwksUrl only: minimum time between two fetches triggered by an unknown `kid` (ms or duration). Default 1 s. A
   * token with an unknown kid during the cooldown waits for it to end and for one shared refetch, so a key published
   * just after a fetch is still found (rotation causes no failures) while random kids cannot cause a fetch storm.
   */
  jwksCooldown?: number | string
  /** jwksUrl only: timeout of one JWKS fetch (ms). Default 5000. */
  jwksTimeout?: number
  /**
   * Which callers a service takes: `allow` (default) users and machine clients alike, `require` only machine clients
   * (the gateway marks their tokens `type: "machine"`), `refuse` only users. The other kind is `machine_mismatch`.
   */
  machine?: 'allow' | 'require' | 'refuse'
  /** Clock, for tests. */
  now?: () => Date
}

/** True for an id_token the gateway minted for a machine client (Hydra client_credentials), not a user's session. */
export function isMachineToken(claims: JWTPayload): boolean {
  return claims.type === 'machine'
}

export interface VerifiedToken {
  claims: JWTPayload & {iss: string; exp: number}
  header: JWTHeaderParameters
  kid: string
}

export interface Verifier {
  /** Resolves with the token's claims or rejects with a VerifyError whose `code` says why. */
  verify(token: string): Promise<VerifiedToken>
}

type KeyResolver = (header: JWTHeaderParameters, token: FlattenedJWSInput) => Promise<CryptoKey>

/** Creates a verifier for Oathkeeper id_tokens (or tokens from `iam token mint`). */
export function createVerifier(options: VerifierOptions): Verifier {
  if (options.issuer === undefined || options.audience === undefined) throw new TypeError('createVerifier: issuer and audience are required')
  return buildVerifier(options)
}

/** As createVerifier, with issuer and audience optional (`iam token verify` checks only what it is told to). */
export function buildVerifier(options: Omit<VerifierOptions, 'issuer' | 'audience'> & {issuer?: string | string[]; audience?: string | string[]}): Verifier {
  const skewMs = toMs(options.clockSkew ?? 5000, 'clockSkew')
  const keys = keySource(options)
  const replay: ReplayCache | undefined = options.replay === true ? new MemoryReplayCache() : options.replay || undefined
  const memoryReplay = replay instanceof MemoryReplayCache ? replay : undefined
  const verifyOptions: JWTVerifyOptions = {
    algorithms: options.algorithms ?? ['RS256', 'ES256'],
    clockTolerance: skewMs / 1000,
    requiredClaims: replay ? ['exp', 'jti'] : ['exp'],
    ...(options.issuer !== undefined ? {issuer: options.issuer} : {}),
    ...(options.audience !== undefined ? {audience: options.audience} : {}),
  }
  const now = options.now
  // Hot path: the imported key per encoded protected header. Every token of one key carries the same header
  // ({"alg","kid","typ"}), so a verification costs one Map lookup on top of what bare jwtVerify does. Entries are
  // only used while the key set they came from is current, and only headers of tokens that verified get one.
  const byHeader = new Map<string, {key: CryptoKey; generation: number}>()

  const rejectWith = (error: unknown): never => {
    throw toVerifyError(error)
  }
  const replayError = (jti: string): VerifyError => new VerifyError('replay', `token ${jti} was already presented`)
  const machine = options.machine ?? 'allow'
  if (!['allow', 'require', 'refuse'].includes(machine)) throw new TypeError(`createVerifier: invalid machine ${JSON.stringify(machine)} (allow, require or refuse)`)
  const accept = (result: {payload: JWTPayload; protectedHeader: JWTHeaderParameters}): VerifiedToken | Promise<VerifiedToken> => {
    const claims = result.payload as VerifiedToken['claims']
    const header = result.protectedHeader
    if (machine !== 'allow' && isMachineToken(claims) !== (machine === 'require')) {
      throw new VerifyError('machine_mismatch', machine === 'require' ? 'the token is a user\'s; this service takes machine clients only' : 'the token is a machine client\'s; this service takes users only')
    }
    if (replay) {
      const jti = claims.jti
      if (typeof jti !== 'string' || jti.length === 0) throw new VerifyError('malformed', 'the token has no "jti" claim')
      // Remembered until the token can no longer be accepted at all: exp plus the tolerated skew.
      const until = claims.exp * 1000 + skewMs
      if (memoryReplay) {
        if (!memoryReplay.checkAndStoreSync(jti, until)) throw replayError(jti)
      } else {
        return replay.checkAndStore(jti, until).then((fresh) => {
          if (!fresh) throw replayError(jti)
          return {claims, header, kid: header.kid as string}
        })
      }
    }
    return {claims, header, kid: header.kid as string}
  }

  return {
    // Promise chains rather than async/await: this is the hot path of every request a service receives.
    verify(token: string): Promise<VerifiedToken> {
      if (typeof token !== 'string' || token.length === 0) return Promise.reject(new VerifyError('malformed', 'no token'))
      const header = token.slice(0, Math.max(0, token.indexOf('.')))
      const opts = now ? {...verifyOptions, currentDate: now()} : verifyOptions
      const hit = byHeader.get(header)
      if (hit && keys.usable(hit.generation)) return jwtVerify(token, hit.key, opts).then(accept, rejectWith)
      const generation = keys.generation()
      return jwtVerify(token, keys.resolve, opts).then((resolved) => {
        if (keys.usable(generation)) {
          if (byHeader.size >= 64) byHeader.clear()
          byHeader.set(header, {key: resolved.key as CryptoKey, generation})
        }
        return accept(resolved)
      }, rejectWith)
    },
  }
}

interface KeySource {
  resolve: KeyResolver
  /** Changes whenever the key set may have changed (a JWKS fetch started). */
  generation(): number
  /** Whether a key resolved in `generation` may still be used without asking the key set again. */
  usable(generation: number): boolean
}

function keySource(options: Pick<VerifierOptions, 'jwks' | 'jwksUrl' | 'jwksRefresh' | 'jwksCooldown' | 'jwksTimeout'>): KeySource {
  const requireKid = (header: JWTHeaderParameters): void => {
    // Oathkeeper always names its key; selecting "any key that fits" would make rotation ambiguous.
    if (typeof header.kid !== 'string' || header.kid.length === 0) throw new VerifyError('malformed', 'the token header has no "kid"')
  }

  if (options.jwks) {
    const local = createLocalJWKSet(options.jwks)
    return {
      resolve: (header, token) => {
        requireKid(header)
        return local(header, token)
      },
      generation: () => 0,
      usable: () => true,
    }
  }

  if (!options.jwksUrl) throw new TypeError('createVerifier: jwksUrl or jwks is required')
  const cooldownMs = toMs(options.jwksCooldown ?? 1000, 'jwksCooldown')
  let generation = 0
  const remote = createRemoteJWKSet(new URL(options.jwksUrl), {
    cacheMaxAge: toMs(options.jwksRefresh ?? 30_000, 'jwksRefresh'),
    cooldownDuration: cooldownMs,
    timeoutDuration: options.jwksTimeout ?? 5000,
    // Every fetch starts a new generation: keys cached from the previous set (e.g. a pruned key) stop being used.
    [customFetch]: (input: string | URL | Request, init?: RequestInit) => {
      generation++
      return fetch(input, init)
    },
  })
  let delayedReload: Promise<void> | undefined

  return {
    resolve: async (header, token) => {
      requireKid(header)
      try {
        return await remote(header, token)
      } catch (error) {
        if (!(error instanceof joseErrors.JWKSNoMatchingKey) || !remote.coolingDown) throw error
        // The set was fetched less than a cooldown ago, possibly just before the key was published: one shared
        // refetch once the cooldown is over, then a second look.
        delayedReload ??= new Promise<void>((resolve) => setTimeout(resolve, cooldownMs).unref?.())
          .then(() => remote.reload())
          .finally(() => {
            delayedReload = undefined
          })
        await delayedReload
        return remote(header, token)
      }
    },
    generation: () => generation,
    // Stale (due for a refetch) or mid-fetch sets go through jose, which refetches; so does any older generation.
    usable: (g) => g === generation && remote.fresh && !remote.reloading,
  }
}

function toMs(value: number | string, what: string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return value
  } else {
    const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(value.trim())
    if (match) return Number(match[1]) * {ms: 1, s: 1000, m: 60_000, h: 3_600_000}[match[2] as 'ms' | 's' | 'm' | 'h']
  }
  throw new TypeError(`createVerifier: invalid ${what} ${JSON.stringify(value)} (milliseconds or a duration like "5s")`)
}
