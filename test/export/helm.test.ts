/**
 * `iam export helm`, proved offline: a starter project is exported, the real Helm (built once from the Go module
 * proxy into the iam cache by tools/helm.mjs) renders the official ory/k8s 0.62 charts from ../shared/ory/k8s with
 * the exported values, and every resulting manifest — plus iam's own — is validated against the Kubernetes JSON
 * schemas with unknown fields refused (`kubernetes-validate --strict`, installed by .ci/run). The Ory configs the
 * charts put into their ConfigMaps (what the pods read) validate against the v26.2.0 config schemas. No cluster.
 * A missing helm, chart archive or kubernetes-validate fails the suite; nothing is skipped.
 */
import {execa} from 'execa'
import {existsSync} from 'node:fs'
import {mkdir, mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parse, parseAllDocuments} from 'yaml'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {parseDotEnv} from '../../src/project/secrets.js'
import {runIam} from '../helpers/cli.js'
import {oryConfigErrors} from '../templates/ory-schema.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const CHARTS_ARCHIVE = process.env.IAM_ORY_K8S_CHARTS ?? join(ROOT, '..', 'shared', 'ory', 'k8s', 'ory-k8s-v0.62.1-charts.tar.gz')
/** A Kubernetes version kubernetes-validate ships schemas for. */
const KUBE_VERSION = '1.33.0'
const RELEASE = 'shop'
const CHARTS = ['kratos', 'keto', 'oathkeeper', 'hydra'] as const

interface Manifest {
  apiVersion: string
  kind: string
  metadata: {name: string}
  data?: Record<string, string>
  spec?: Record<string, unknown>
}

let work: string
let project: string
let out: string
let chartsDir: string
let helm: string
const rendered: Record<string, Manifest[]> = {}

async function helmTemplate(chart: (typeof CHARTS)[number]): Promise<string> {
  const result = await execa(helm, ['template', `${RELEASE}-${chart}`, join(chartsDir, chart), '-n', RELEASE, '-f', join(out, `values-${chart}.yaml`)], {reject: false})
  expect(result.exitCode, result.stderr).toBe(0)
  return result.stdout
}

function docs(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Manifest | null)
    .filter((d): d is Manifest => d !== null)
}

async function strictValidate(file: string): Promise<{exitCode: number; output: string}> {
  const result = await execa('kubernetes-validate', ['--strict', '-k', KUBE_VERSION, file], {reject: false, all: true})
  return {exitCode: result.exitCode ?? 1, output: result.all ?? ''}
}

function find(chart: string, kind: string, name: string): Manifest {
  const found = rendered[chart]!.find((m) => m.kind === kind && m.metadata.name === name)
  expect(found, `${chart}: ${kind}/${name}`).toBeDefined()
  return found!
}

type Container = {name: string; env?: {name: string; value?: string; valueFrom?: {secretKeyRef?: {name: string; key: string}}}[]}
const containers = (m: Manifest): Container[] => ((m.spec as {template: {spec: {containers: Container[]}}}).template.spec.containers)

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'iam-export-helm-'))
  project = join(work, 'shop')
  out = join(project, 'k8s')
  const init = await runIam(['init', project, '-y', '--roles', '--machine-clients'])
  expect(init.exitCode, init.output).toBe(0)
  // Helm: built once and cached (a cold build takes minutes; .ci/run builds it before the tests).
  const built = await execa(process.execPath, [join(ROOT, 'tools', 'helm.mjs')], {reject: false, timeout: 900_000})
  expect(built.exitCode, `tools/helm.mjs could not provide helm: ${built.stderr}`).toBe(0)
  helm = built.stdout.trim()
  expect(existsSync(CHARTS_ARCHIVE), `the ory/k8s charts archive is missing: ${CHARTS_ARCHIVE}`).toBe(true)
  const extracted = join(work, 'charts')
  await mkdir(extracted)
  await execa('tar', ['-xzf', CHARTS_ARCHIVE, '-C', extracted])
  chartsDir = join(extracted, 'ory-k8s-v0.62.1', 'helm', 'charts')
}, 900_000)

afterAll(async () => {
  if (work) await rm(work, {recursive: true, force: true})
})

describe('iam export helm', () => {
  it('writes the values, manifests, Dockerfile and README; --check is clean, then names the drifted files after an iam.yaml edit', async () => {
    const first = await runIam(['export', 'helm', '-C', project, '--out', 'k8s', '--release', RELEASE, '--json'])
    expect(first.exitCode, first.output).toBe(0)
    const report = first.json as {files: {path: string; status: string}[]; warnings: string[]; namespace: string}
    expect(report.files.map((f) => [f.path, f.status])).toEqual(
      ['Dockerfile', 'README.md', 'iam-servers.yaml', 'keto-namespaces.yaml', 'network-policy.yaml', 'values-hydra.yaml', 'values-keto.yaml', 'values-kratos.yaml', 'values-oathkeeper.yaml'].map((p) => [p, 'created']),
    )
    expect(report.namespace).toBe(RELEASE)
    // The starter's loopback upstreams mean nothing inside a cluster: said, not hidden.
    expect(report.warnings.join('\n')).toContain('route(s) public, admin, tenant, app, machine forward to a loopback upstream')

    const clean = await runIam(['export', 'helm', '-C', project, '--out', 'k8s', '--release', RELEASE, '--check'])
    expect(clean.exitCode, clean.output).toBe(0)

    const yamlPath = join(project, 'iam.yaml')
    const original = await readFile(yamlPath, 'utf8')
    await writeFile(yamlPath, original.replace('maxBatchCheckSize: 10', 'maxBatchCheckSize: 7'))
    try {
      const drift = await runIam(['export', 'helm', '-C', project, '--out', 'k8s', '--release', RELEASE, '--check'])
      expect(drift.exitCode, drift.output).toBe(1)
      expect(drift.stderr).toContain('drift: 2 file(s) differ from what iam.yaml exports to: iam-servers.yaml, values-keto.yaml')
    } finally {
      await writeFile(yamlPath, original)
    }

    const bad = await runIam(['export', 'helm', '-C', project, '--out', 'k8s', '--release', 'Bad_Name'])
    expect(bad.exitCode, bad.output).toBe(2)
  })

  it('the official charts render the values with the real helm, and every manifest validates strictly against the Kubernetes schemas', async () => {
    const files: string[] = []
    for (const chart of CHARTS) {
      const text = await helmTemplate(chart)
      rendered[chart] = docs(text)
      const file = join(work, `rendered-${chart}.yaml`)
      await writeFile(file, text)
      files.push(file)
    }
    for (const own of ['iam-servers.yaml', 'keto-namespaces.yaml', 'network-policy.yaml']) files.push(join(out, own))
    for (const file of files) {
      const result = await strictValidate(file)
      expect(result.exitCode, result.output).toBe(0)
      expect(result.output).toContain('passed')
      expect(result.output).not.toMatch(/failed|error/i)
    }

    // The validator refuses what it should: an unknown field in a container.
    const broken = join(work, 'broken.yaml')
    const servers = await readFile(join(out, 'iam-servers.yaml'), 'utf8')
    await writeFile(broken, servers.replace('imagePullPolicy: IfNotPresent', 'imagePullPolicy: IfNotPresent\n              imagePulPolicy: Always'))
    expect((await strictValidate(broken)).exitCode).not.toBe(0)

    // No chart creates a Secret: every secret is an existing Secret the README's commands create.
    for (const chart of CHARTS) expect(rendered[chart]!.filter((m) => m.kind === 'Secret').map((m) => m.metadata.name)).toEqual([])
    const kratos = containers(find('kratos', 'Deployment', `${RELEASE}-kratos`)).find((c) => c.name === 'kratos')!
    const env = Object.fromEntries((kratos.env ?? []).map((e) => [e.name, e]))
    expect(env.DSN?.valueFrom?.secretKeyRef).toEqual({name: `${RELEASE}-kratos-secrets`, key: 'dsn'})
    expect(env.SECRETS_COOKIE?.valueFrom?.secretKeyRef).toMatchObject({name: `${RELEASE}-kratos-secrets`, key: 'secretsCookie'})
    expect(env.ROLE_WEBHOOK_SECRET?.valueFrom?.secretKeyRef).toEqual({name: `${RELEASE}-role-webhook`, key: 'secret'})
    // Kubernetes expands $(VAR) only from variables defined earlier in the list.
    const names = (kratos.env ?? []).map((e) => e.name)
    expect(names.indexOf('ROLE_WEBHOOK_SECRET')).toBeLessThan(names.indexOf('SELFSERVICE_FLOWS_LOGIN_AFTER'))
    expect(env.SELFSERVICE_FLOWS_LOGIN_AFTER?.value).toContain(`http://${RELEASE}-role-webhook:4471/hooks/kratos`)
    const keto = containers(find('keto', 'Deployment', `${RELEASE}-keto`))[0]!
    expect(keto.env?.find((e) => e.name === 'DSN')?.valueFrom?.secretKeyRef).toEqual({name: `${RELEASE}-keto-secrets`, key: 'dsn'})
    const oathkeeper = find('oathkeeper', 'Deployment', `${RELEASE}-oathkeeper`)
    expect(JSON.stringify(oathkeeper.spec)).toContain(`"secretName":"${RELEASE}-oathkeeper-jwks"`)
    // The in-cluster service names the exported configs point at exist in the charts' output.
    for (const [chart, name] of [['kratos', 'kratos-public'], ['kratos', 'kratos-admin'], ['keto', 'keto-read'], ['keto', 'keto-write']] as const) {
      find(chart, 'Service', `${RELEASE}-${name}`)
    }
    const rules = JSON.parse(find('oathkeeper', 'ConfigMap', `${RELEASE}-oathkeeper-rules`).data!['access-rules.json']!) as {id: string}[]
    expect(rules.map((r) => r.id)).toEqual(['public', 'admin', 'tenant', 'app', 'machine', 'iam-ory'])

    // Hydra: DSN, system secret and pairwise salt from the Secret; the token hook's key by $(VAR) from the Secret,
    // defined before the hook; no hydra-maester; the admin service the gateway introspects at exists.
    const hydra = containers(find('hydra', 'Deployment', `${RELEASE}-hydra`)).find((c) => c.name === 'hydra')!
    const hydraEnv = Object.fromEntries((hydra.env ?? []).map((e) => [e.name, e]))
    expect(hydraEnv.DSN?.valueFrom?.secretKeyRef).toEqual({name: `${RELEASE}-hydra-secrets`, key: 'dsn'})
    expect(hydraEnv.SECRETS_SYSTEM?.valueFrom?.secretKeyRef).toEqual({name: `${RELEASE}-hydra-secrets`, key: 'secretsSystem'})
    expect(hydraEnv.OIDC_SUBJECT_IDENTIFIERS_PAIRWISE_SALT?.valueFrom?.secretKeyRef).toEqual({name: `${RELEASE}-hydra-secrets`, key: 'pairwiseSalt'})
    const hydraNames = (hydra.env ?? []).map((e) => e.name)
    expect(hydraNames.indexOf('CLIENT_CLAIMS_SECRET')).toBeLessThan(hydraNames.indexOf('OAUTH2_TOKEN_HOOK'))
    expect(JSON.parse(hydraEnv.OAUTH2_TOKEN_HOOK!.value!)).toEqual({url: `http://${RELEASE}-client-claims:4472/hook`, auth: {type: 'api_key', config: {in: 'header', name: 'Authorization', value: 'Bearer $(CLIENT_CLAIMS_SECRET)'}}})
    expect(rendered.hydra!.some((m) => /maester/.test(m.metadata.name))).toBe(false)
    for (const name of ['hydra-public', 'hydra-admin']) find('hydra', 'Service', `${RELEASE}-${name}`)

    // iam's servers: probes on their health endpoints, requests, non-root, read-only root filesystem.
    const own = docs(servers)
    for (const name of ['batch-auth', 'role-webhook', 'client-claims']) {
      const deployment = own.find((m) => m.kind === 'Deployment' && m.metadata.name === `${RELEASE}-${name}`)!
      const spec = (deployment.spec as {template: {spec: {securityContext: Record<string, unknown>; containers: Record<string, any>[]}}}).template.spec
      const container = spec.containers[0]!
      expect(container.readinessProbe.httpGet.path).toBe('/health/ready')
      expect(container.livenessProbe.httpGet.path).toBe('/health/alive')
      expect(container.resources.requests).toMatchObject({cpu: expect.any(String), memory: expect.any(String)})
      expect(container.securityContext).toMatchObject({readOnlyRootFilesystem: true, runAsNonRoot: true, allowPrivilegeEscalation: false})
      expect(spec.securityContext.runAsNonRoot).toBe(true)
      expect(container.args.join(' ')).toMatch(new RegExp(`http://${RELEASE}-(keto-read|hydra-admin:4445)`))
    }
    const policies = docs(await readFile(join(out, 'network-policy.yaml'), 'utf8'))
    const kratosPolicy = policies.find((p) => p.metadata.name === `${RELEASE}-kratos-admin-internal`)!
    expect(kratosPolicy.spec).toMatchObject({ingress: [{ports: [{port: 4433}]}, {from: [{podSelector: {}}], ports: [{port: 4434}]}]})
  })

  it('the Ory configs the charts mount validate against the v26.2.0 config schemas (Kratos with its env overrides applied)', () => {
    const kratosYaml = parse(find('kratos', 'ConfigMap', `${RELEASE}-kratos-config`).data!['kratos.yaml']!) as Record<string, any>
    const kratos = containers(find('kratos', 'Deployment', `${RELEASE}-kratos`)).find((c) => c.name === 'kratos')!
    const env = Object.fromEntries((kratos.env ?? []).map((e) => [e.name, e.value]))
    const effective = structuredClone(kratosYaml)
    effective.selfservice.flows.login.after = JSON.parse(env.SELFSERVICE_FLOWS_LOGIN_AFTER!.replace('$(ROLE_WEBHOOK_SECRET)', 'x'))
    effective.selfservice.flows.registration.after = JSON.parse(env.SELFSERVICE_FLOWS_REGISTRATION_AFTER!.replace('$(ROLE_WEBHOOK_SECRET)', 'x'))
    // DSN (required by the schema) comes from the Secret as env too: any value stands in for it.
    effective.dsn = 'memory'
    expect(oryConfigErrors('kratos', 'v26.2.0', effective)).toEqual([])
    expect(JSON.stringify(effective.selfservice.flows.login.after)).toContain('base64://')
    expect(kratosYaml.identity.schemas[0].url).toBe('file:///etc/config/identity.schema.json')
    const schema = find('kratos', 'ConfigMap', `${RELEASE}-kratos-config`).data!['identity.schema.json']!
    expect(JSON.parse(schema).properties.traits.required).toEqual(['email'])

    const keto = parse(find('keto', 'ConfigMap', `${RELEASE}-keto-config`).data!['keto.yaml']!) as Record<string, any>
    expect(oryConfigErrors('keto', 'v26.2.0', {...keto, dsn: 'memory'})).toEqual([])
    expect(keto.namespaces).toEqual({location: 'file:///etc/iam/keto/namespaces.keto.ts'})

    const oathkeeper = parse(find('oathkeeper', 'ConfigMap', `${RELEASE}-oathkeeper-config`).data!['config.yaml']!) as Record<string, any>
    expect(oryConfigErrors('oathkeeper', 'v26.2.0', oathkeeper)).toEqual([])
    expect(oathkeeper.authenticators.cookie_session.config.check_session_url).toBe(`http://${RELEASE}-kratos-public/sessions/whoami`)
    expect(oathkeeper.authorizers.remote_json.config.remote).toBe(`http://${RELEASE}-batch-auth:4470/check`)
    expect(oathkeeper.authenticators.oauth2_introspection.config.introspection_url).toBe(`http://${RELEASE}-hydra-admin:4445/admin/oauth2/introspect`)

    const hydra = parse(find('hydra', 'ConfigMap', `${RELEASE}-hydra`).data!['hydra.yaml']!) as Record<string, any>
    expect(oryConfigErrors('hydra', 'v26.2.0', {...hydra, dsn: 'memory'})).toEqual([])
    expect(hydra.strategies.access_token).toBe('opaque')
  })

  it('no exported or rendered file holds a value from .env or a private JWKS member', async () => {
    const secrets = [...parseDotEnv(await readFile(join(project, '.env'), 'utf8')).values()].filter((v) => v.length >= 8)
    expect(secrets.length).toBeGreaterThanOrEqual(4)
    const jwks = JSON.parse(await readFile(join(project, 'ory', 'oathkeeper', 'jwks.json'), 'utf8')) as {keys: Record<string, string>[]}
    const privates = jwks.keys.flatMap((k) => ['d', 'p', 'q', 'dp', 'dq', 'qi'].map((m) => k[m]).filter((v): v is string => typeof v === 'string'))
    expect(privates.length).toBeGreaterThanOrEqual(6)
    const texts: [string, string][] = []
    for (const name of await readdir(out)) texts.push([name, await readFile(join(out, name), 'utf8')])
    for (const chart of CHARTS) texts.push([`helm template ${chart}`, await readFile(join(work, `rendered-${chart}.yaml`), 'utf8')])
    expect(texts.length).toBe(9 + CHARTS.length)
    for (const [name, text] of texts) {
      for (const value of [...secrets, ...privates]) expect(text.includes(value), `${name} holds a secret value`).toBe(false)
      expect(text, name).not.toContain('PRIVATE KEY')
    }
  })
})
