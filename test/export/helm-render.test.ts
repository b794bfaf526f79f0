/** The pure part of `iam export helm`: what it writes for which iam.yaml, deterministically, and what it refuses. */
import {describe, expect, it} from 'vitest'
import {parse, parseAllDocuments} from 'yaml'

import {checkReleaseName, defaultRelease, renderHelmExport, type HelmExportOptions} from '../../src/export/helm-render.js'
import {testConfig} from '../templates/fixture.js'

const OPTIONS: HelmExportOptions = {release: 'demo', namespace: 'auth', packageName: 'iam-stack', packageVersion: '9.9.9', roleWebhookJsonnet: 'function(ctx) { identity_id: ctx.identity.id }\n'}
const file = (files: {path: string; content: string}[], path: string): string => {
  const found = files.find((f) => f.path === path)
  expect(found, path).toBeDefined()
  return found!.content
}

describe('renderHelmExport', () => {
  it('is deterministic and puts iam.yaml ports and in-cluster names where the charts and manifests read them', () => {
    const config = testConfig()
    const a = renderHelmExport(config, OPTIONS)
    expect(renderHelmExport(config, OPTIONS)).toEqual(a)
    expect(a.files.map((f) => f.path)).toEqual([...a.files.map((f) => f.path)].sort())
    const oathkeeper = parse(file(a.files, 'values-oathkeeper.yaml')) as {oathkeeper: {config: {serve: Record<string, {port: number; host?: string}>}}}
    expect(oathkeeper.oathkeeper.config.serve.proxy).toEqual({port: 14455})
    const servers = parseAllDocuments(file(a.files, 'iam-servers.yaml')).map((d) => d.toJS() as {kind: string; metadata: {name: string; namespace: string}})
    expect(servers.map((d) => `${d.kind}/${d.metadata.name}@${d.metadata.namespace}`)).toEqual([
      'Deployment/demo-batch-auth@auth', 'Service/demo-batch-auth@auth', 'Deployment/demo-role-webhook@auth', 'Service/demo-role-webhook@auth',
    ])
    const readme = file(a.files, 'README.md')
    expect(readme).toContain('helm -n auth install demo-keto ory/keto --version 0.62.0 -f k8s/values-keto.yaml')
    expect(readme.indexOf('install demo-keto')).toBeLessThan(readme.indexOf('install demo-kratos'))
    expect(readme.indexOf('install demo-kratos')).toBeLessThan(readme.indexOf('install demo-oathkeeper'))
    expect(file(a.files, 'Dockerfile')).toContain('COPY iam-stack-9.9.9.tgz /tmp/iam.tgz')
  })

  it('without roles and anyOf routes there are no iam servers, no webhook secret and no policy for them', () => {
    const config = testConfig((c) => {
      c.roles.enabled = false
      c.routes = c.routes.filter((r) => (r.authorization?.anyOf?.length ?? 0) === 0)
    })
    const {files} = renderHelmExport(config, OPTIONS)
    expect(files.map((f) => f.path)).not.toContain('iam-servers.yaml')
    expect(file(files, 'README.md')).not.toContain('role-webhook')
    expect(file(files, 'values-kratos.yaml')).not.toContain('ROLE_WEBHOOK_SECRET')
    const policies = parseAllDocuments(file(files, 'network-policy.yaml')).map((d) => (d.toJS() as {metadata: {name: string}}).metadata.name)
    expect(policies).toEqual(['demo-kratos-admin-internal', 'demo-keto-write-internal'])
  })

  it('refuses what the Kratos chart would execute as a Helm template, and release names Kubernetes cannot take', () => {
    const config = testConfig((c) => {
      c.kratos.uiUrl = 'https://app.example.com/{{ .Release.Name }}/'
    })
    expect(() => renderHelmExport(config, OPTIONS)).toThrow(/Helm template/)
    expect(checkReleaseName('shop')).toBeUndefined()
    expect(checkReleaseName('Shop')).toMatch(/lowercase/)
    expect(checkReleaseName('a'.repeat(31))).toMatch(/30/)
    expect(defaultRelease('My Shop_2')).toBe('my-shop-2')
    expect(defaultRelease('42')).toBe('iam')
  })
})
