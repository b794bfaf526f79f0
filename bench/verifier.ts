/**
 * Verifications per second of the exported verifier (remote JWKS cached after the first fetch, replay protection on)
 * against bare `jose.jwtVerify` with the same public key and the same checks, measured side by side in one run.
 *
 * Machine noise (a shared CI box, other processes) dwarfs the difference being measured, so: both sides run the same
 * tokens in many short alternating chunks (bare, ours / ours, bare), each chunk is timed in CPU time (user + system of
 * all threads: WebCrypto verifies on libuv's pool), and the ratio reported is the median of the per-chunk-pair ratios.
 * Target >= 0.95.
 *
 *   npx tsx bench/verifier.ts [--tokens 2000] [--chunk 100] [--passes 4] [--alg RS256|ES256]
 */
import {createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {parseArgs} from 'node:util'

import {importJWK, jwtVerify} from 'jose'

import {generateKey} from '../src/keys/generate.js'
import {publicJwk, publicKeySet, type KeyAlgorithm} from '../src/keys/jwks.js'
import {mintToken} from '../src/token/mint.js'
import {createVerifier, type Verifier} from '../src/verifier/index.js'

const {values} = parseArgs({
  options: {
    tokens: {type: 'string', default: '2000'},
    chunk: {type: 'string', default: '100'},
    passes: {type: 'string', default: '4'},
    alg: {type: 'string', default: 'RS256'},
  },
})
const N = Number(values.tokens)
const CHUNK = Number(values.chunk)
const PASSES = Number(values.passes)
const ALG = values.alg as KeyAlgorithm
const ISS = 'http://127.0.0.1:4455/'
const AUD = 'orders-api'

const key = await generateKey(ALG)
const set = {keys: [key]}
const jwksBody = JSON.stringify(publicKeySet(set))
const server = createServer((_req, res) => res.writeHead(200, {'content-type': 'application/json'}).end(jwksBody))
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
const jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`

const mint = async (): Promise<string> => (await mintToken(set, {subject: 'user-1', audience: AUD, issuer: ISS, ttlMs: 3_600_000})).token
const tokens: string[] = []
for (let i = 0; i < N; i++) tokens.push(await mint())
const chunks: string[][] = []
for (let i = 0; i < N; i += CHUNK) chunks.push(tokens.slice(i, i + CHUNK))
const pub = await importJWK(publicJwk(key), ALG)
const options = {issuer: ISS, audience: AUD, algorithms: [ALG], clockTolerance: 5, requiredClaims: ['exp', 'jti']}

async function cpuMs(work: () => Promise<void>): Promise<number> {
  const start = process.cpuUsage()
  await work()
  const used = process.cpuUsage(start)
  return (used.user + used.system) / 1000
}

const bare = (chunk: string[]): Promise<number> =>
  cpuMs(async () => {
    for (const token of chunk) await jwtVerify(token, pub, options)
  })
const ours = (verifier: Verifier, chunk: string[]): Promise<number> =>
  cpuMs(async () => {
    for (const token of chunk) await verifier.verify(token)
  })

// A fresh verifier per pass (a fresh replay cache: every token is new to it), JWKS fetched before timing.
async function freshVerifier(): Promise<Verifier> {
  const verifier = createVerifier({jwksUrl, issuer: ISS, audience: AUD, clockSkew: 5000, replay: true})
  await verifier.verify(await mint())
  return verifier
}

// Warm-up pass (JIT, key import), not measured.
{
  const verifier = await freshVerifier()
  for (const chunk of chunks) {
    await bare(chunk)
    await ours(verifier, chunk)
  }
}
const pairs: {bare: number; ours: number}[] = []
for (let pass = 0; pass < PASSES; pass++) {
  const verifier = await freshVerifier()
  for (const [i, chunk] of chunks.entries()) {
    if ((i + pass) % 2 === 0) {
      const b = await bare(chunk)
      pairs.push({bare: b, ours: await ours(verifier, chunk)})
    } else {
      const o = await ours(verifier, chunk)
      pairs.push({bare: await bare(chunk), ours: o})
    }
  }
}
server.close()

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
const perSecond = (ms: number): number => (CHUNK / ms) * 1000
const ratio = median(pairs.map((p) => p.bare / p.ours))
console.log(`verifier bench: ${ALG}, ${N} distinct tokens in chunks of ${CHUNK}, ${PASSES} passes = ${pairs.length} alternating chunk pairs (CPU time)`)
console.log(`  jose.jwtVerify (bare key)                 ${perSecond(median(pairs.map((p) => p.bare))).toFixed(0).padStart(8)} verifications/CPU-s (median chunk)`)
console.log(`  createVerifier (remote JWKS, replay on)   ${perSecond(median(pairs.map((p) => p.ours))).toFixed(0).padStart(8)} verifications/CPU-s (median chunk)`)
console.log(`  ratio ${ratio.toFixed(3)} (median of per-pair ratios; target >= 0.95) ${ratio >= 0.95 ? 'OK' : 'BELOW TARGET'}`)
