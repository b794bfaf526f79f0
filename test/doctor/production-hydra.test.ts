/** `iam doctor --production` with Hydra on: its public URL must be https, its admin API loopback only. Pure checks. */
import {describe, expect, it} from 'vitest'

import {productionChecks} from '../../src/doctor/production.js'
import {renderAll} from '../../src/templates/index.js'
import {CTX, testConfig} from '../templates/fixture.js'

function checksFor(hydraUrl: string, edit: (files: Record<string, string>) => void = () => {}) {
  const config = testConfig((c) => Object.assign(c.hydra, {enabled: true, publicUrl: hydraUrl}))
  const files = Object.fromEntries(renderAll(config, CTX).map((f) => [f.path, f.content]))
  edit(files)
  return productionChecks({config, files, secrets: {}, projectInTemp: false})
}

describe('doctor --production with Hydra', () => {
  it('an http hydra.publicUrl fails with its key and the fix; an https one passes that check', () => {
    const http = checksFor('http://127.0.0.1:4444/').filter((c) => c.key === 'hydra.publicUrl')
    expect(http).toEqual([expect.objectContaining({id: 'production.https', status: 'fail', fix: expect.stringContaining('without --dev')})])
    expect(checksFor('https://oauth.example.com/').filter((c) => c.key === 'hydra.publicUrl')).toEqual([])
  })

  it("Hydra's admin API on another interface than loopback fails, named in hydra.yml", () => {
    const exposed = checksFor('https://oauth.example.com/', (files) => {
      files['ory/hydra/hydra.yml'] = files['ory/hydra/hydra.yml']!.replace(/admin:\n(\s+)host: 127\.0\.0\.1/, 'admin:\n$1host: 0.0.0.0')
    })
    expect(exposed.filter((c) => c.id === 'production.admin-apis')).toEqual([expect.objectContaining({status: 'fail', file: 'ory/hydra/hydra.yml', key: 'serve.admin.host', message: expect.stringContaining('Hydra admin API listens on 0.0.0.0')})])
    expect(checksFor('https://oauth.example.com/').find((c) => c.id === 'production.admin-apis')).toMatchObject({status: 'ok', message: expect.stringContaining('Hydra admin')})
  })
})
