import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {startKeto, type HarnessDetails, type ServerHandle} from '../../harness/index.js'

const MAX_BATCH = 4

describe('real Keto', () => {
  let keto: ServerHandle & HarnessDetails & {urls: {read: string; write: string}}

  beforeAll(async () => {
    keto = await startKeto({config: {limit: {max_batch_check_size: MAX_BATCH}}})
  })
  afterAll(() => {
    process.stderr.write(`keto: migrate ${keto?.migrateMs} ms, serve→ready ${keto?.readyTimesMs.join(', ')} ms\n`)
  })

  const tuple = {namespace: 'Document', object: 'doc-1', relation: 'viewer', subject_id: 'alice'}

  async function check(body: object): Promise<{status: number; json: unknown}> {
    const response = await fetch(`${keto.urls.read}/relation-tuples/check`, {
      method: 'POST',
      headers: {'content-type': 'application/json'},
      body: JSON.stringify(body),
    })
    return {status: response.status, json: await response.json()}
  }

  it('writes a tuple through the write API and checks it', async () => {
    const put = await fetch(`${keto.urls.write}/admin/relation-tuples`, {
      method: 'PUT',
      headers: {'content-type': 'application/json'},
      body: JSON.stringify(tuple),
    })
    expect(put.status).toBe(201)
    expect(await put.json()).toMatchObject(tuple)

    expect(await check(tuple)).toEqual({status: 200, json: {allowed: true}})
    // /relation-tuples/check answers a denial with 403 (the /openapi variant with 200); the body says allowed=false.
    expect(await check({...tuple, subject_id: 'mallory'})).toEqual({status: 403, json: {allowed: false}})

    const get = await fetch(`${keto.urls.read}/relation-tuples/check/openapi?${new URLSearchParams(tuple)}`)
    expect(get.status).toBe(200)
    expect(await get.json()).toEqual({allowed: true})
  })

  it('batch-checks several tuples in order and refuses a batch above the configured maximum', async () => {
    const tuples = [
      tuple,
      {...tuple, subject_id: 'mallory'},
      {...tuple, object: 'doc-2'},
      {namespace: 'NoSuchNamespace', object: 'x', relation: 'viewer', subject_id: 'alice'},
    ]
    const response = await fetch(`${keto.urls.read}/relation-tuples/batch/check`, {
      method: 'POST',
      headers: {'content-type': 'application/json'},
      body: JSON.stringify({tuples}),
    })
    expect(response.status).toBe(200)
    const body = (await response.json()) as {results: {allowed: boolean; error?: string}[]}
    expect(body.results.map((r) => r.allowed)).toEqual([true, false, false, false])
    expect(body.results[3]?.error).toBeTruthy()

    const tooMany = await fetch(`${keto.urls.read}/relation-tuples/batch/check`, {
      method: 'POST',
      headers: {'content-type': 'application/json'},
      body: JSON.stringify({tuples: Array.from({length: MAX_BATCH + 1}, () => tuple)}),
    })
    expect(tooMany.status).toBe(400)
    expect(JSON.stringify(await tooMany.json())).toMatch(/batch/i)
  })
})
