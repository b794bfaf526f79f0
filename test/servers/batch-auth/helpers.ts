import {execa, type ResultPromise} from 'execa'
import {request} from 'undici'

import {BATCH_AUTH_DEFAULTS, startBatchAuth, type BatchAuthOptions, type BatchAuthServer, type Tuple} from '../../../src/servers/batch-auth/index.js'
import {createLogger} from '../../../src/servers/http/index.js'
import {IAM_BIN} from '../../helpers/cli.js'

export const rel = (namespace: string, object: string, relation: string, subject: string | {namespace: string; object: string; relation: string}): Tuple =>
  typeof subject === 'string' ? {namespace, object, relation, subject_id: subject} : {namespace, object, relation, subject_set: subject}

/** Writes relation tuples through Keto's real write API. */
export async function putTuples(writeUrl: string, tuples: Tuple[]): Promise<void> {
  for (const t of tuples) {
    const res = await request(`${writeUrl}/admin/relation-tuples`, {method: 'PUT', body: JSON.stringify(t), headers: {'content-type': 'application/json'}})
    const text = await res.body.text()
    if (res.statusCode !== 201) throw new Error(`Keto refused ${JSON.stringify(t)}: ${res.statusCode} ${text}`)
  }
}

export interface CheckResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: {authorized?: boolean; results?: {allowed: boolean; error?: string; skipped?: boolean}[]; error?: {code: string; message: string; field?: string}}
}

export async function postJson(url: string, body: unknown): Promise<CheckResponse> {
  const res = await request(url, {method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: {'content-type': 'application/json'}})
  return {status: res.statusCode, headers: res.headers, body: JSON.parse(await res.body.text()) as CheckResponse['body']}
}

export async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`timed out waiting for ${what}`)
}

/** Runs the real CLI, `iam serve batch-auth <args>` (built bin/run.js), as its own process; never rejects. */
export function spawnBatchAuthCli(args: string[], env: Record<string, string> = {}): ResultPromise {
  return execa('node', [IAM_BIN, 'serve', 'batch-auth', ...args], {reject: false, env: {...process.env, ...env}})
}

/** batch-auth in this process on a free port, logging into `logs` (built-in defaults unless overridden). */
export function startTestBatchAuth(ketoReadUrl: string, o: Partial<BatchAuthOptions> & {logs?: string[]} = {}): Promise<BatchAuthServer> {
  const {logs, ...overrides} = o
  return startBatchAuth({
    ...BATCH_AUTH_DEFAULTS,
    port: 0,
    ketoReadUrl,
    connections: 8,
    readyCacheMs: 0,
    logger: createLogger({level: 'debug', stream: {write: (line: string) => logs?.push(line) ?? true}}),
    ...overrides,
  })
}
