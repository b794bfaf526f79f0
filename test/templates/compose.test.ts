import {mkdtemp, mkdir, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {parse} from 'yaml'
import {beforeAll, describe, expect, it} from 'vitest'

import {composeProjectName, renderCompose} from '../../src/templates/compose.js'
import {renderAll} from '../../src/templates/index.js'
import {composeCheck, composeCheckBinary} from './compose-check.js'
import {CTX, testConfig} from './fixture.js'

type Doc = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

const ENV = 'KRATOS_SECRETS_COOKIE=c\nKRATOS_SECRETS_CIPHER=k\nKRATOS_SECRETS_DEFAULT=d\nROLE_WEBHOOK_SECRET=w\n'

/** Writes a rendered project (no keys needed for validation) and returns its directory. */
async function writeProject(config = testConfig(), env = ENV): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'iam-compose-'))
  for (const file of renderAll(config, CTX)) {
    const path = join(dir, file.path)
    await mkdir(join(path, '..'), {recursive: true})
    await writeFile(path, file.content)
  }
  await writeFile(join(dir, '.env'), env)
  return dir
}

// On a fresh machine the validator is built (and compose-go downloaded) first: longer than one test may take.
beforeAll(() => composeCheckBinary(), 600_000)

describe('compose.yaml', () => {
  const doc = parse(renderCompose(testConfig(), CTX)) as Doc

  it('runs the oryVersion images, migrations before serve', () => {
    expect(doc.name).toBe('demo')
    expect(doc.services.kratos.image).toBe('oryd/kratos:v26.2.0')
    expect(doc.services.keto.image).toBe('oryd/keto:v26.2.0')
    expect(doc.services.oathkeeper.image).toBe('oryd/oathkeeper:v26.2.0')
    expect(doc.services['kratos-migrate'].command.slice(0, 3)).toEqual(['migrate', 'sql', 'up'])
    expect(doc.services.kratos.depends_on['kratos-migrate']).toEqual({condition: 'service_completed_successfully'})
    expect(doc.services.keto.depends_on['keto-migrate']).toEqual({condition: 'service_completed_successfully'})
    expect(doc.services.oathkeeper.depends_on.kratos).toEqual({condition: 'service_healthy'})
  })

  it('health checks, named volumes for SQLite, published ports on loopback, a mail catcher', () => {
    for (const name of ['kratos', 'keto', 'oathkeeper', 'batch-auth', 'role-webhook', 'mailpit']) expect(doc.services[name].healthcheck.test.length).toBeGreaterThan(1)
    expect(doc.volumes).toEqual({'kratos-data': {}, 'keto-data': {}})
    expect(doc.services.kratos.volumes).toContain('kratos-data:/var/lib/sqlite')
    expect(doc.services.kratos.ports).toEqual(['127.0.0.1:14433:14433', '127.0.0.1:14434:14434'])
    expect(doc.services.mailpit.ports).toEqual(['127.0.0.1:14436:8025', '127.0.0.1:11025:1025'])
    expect(doc.services.kratos.environment.COURIER_SMTP_CONNECTION_URI).toBe('smtp://mailpit:1025/?disable_starttls=true')
  })

  it('secrets only as ${…} references; servers reach each other by service name', () => {
    const text = renderCompose(testConfig(), CTX)
    expect(doc.services.kratos.environment.SECRETS_COOKIE).toMatch(/^\$\{KRATOS_SECRETS_COOKIE:\?/)
    expect(JSON.parse(doc.services.kratos.environment.SELFSERVICE_FLOWS_LOGIN_AFTER).hooks[0].config.url).toBe('http://role-webhook:14471/hooks/kratos')
    expect(doc.services['batch-auth'].command).toEqual([
      'npx', '--yes', '--package=iam-stack@9.9.9', 'iam', 'serve', 'batch-auth', '--host', '0.0.0.0', '--port', '14470',
      '--keto-read-url', 'http://keto:14466', '--max-batch', '10',
    ])
    expect(doc.services['role-webhook'].command).toContain('http://kratos:14434')
    expect(doc.services.oathkeeper.command).toEqual(['serve', '-c', '/etc/config/oathkeeper/oathkeeper.compose.yml'])
    expect(text).not.toMatch(/KRATOS_SECRETS_COOKIE=/)
  })

  it('roles.strict passes --strict to the role webhook; the default does not', () => {
    expect(doc.services['role-webhook'].command).not.toContain('--strict')
    const strict = parse(renderCompose(testConfig((c) => (c.roles.strict = true)), CTX)) as Doc
    expect(strict.services['role-webhook'].command.slice(-1)).toEqual(['--strict'])
  })

  it('without roles there is no role-webhook service', () => {
    const noRoles = parse(renderCompose(testConfig((c) => (c.roles.enabled = false)), CTX)) as Doc
    expect(noRoles.services['role-webhook']).toBeUndefined()
    expect(noRoles.services.kratos.environment.SELFSERVICE_FLOWS_LOGIN_AFTER).toBeUndefined()
  })

  it('project names are compose-safe', () => {
    expect(composeProjectName('My Stack!')).toBe('my-stack-')
    expect(composeProjectName('--x')).toBe('x')
  })

  it('is deterministic', () => {
    expect(renderCompose(testConfig(), CTX)).toBe(renderCompose(testConfig(), CTX))
  })
})

describe('compose.yaml against compose-go (the docker compose loader)', () => {
  it('is a valid compose project once .env provides the secrets', async () => {
    const dir = await writeProject()
    const result = await composeCheck(join(dir, 'ory/compose.yaml'), {envFile: join(dir, '.env')})
    expect(result.stderr).toBe('')
    expect(result.exitCode).toBe(0)
    const project = JSON.parse(result.stdout) as Doc
    expect(Object.keys(project.services).sort()).toEqual(['batch-auth', 'keto', 'keto-migrate', 'kratos', 'kratos-migrate', 'mailpit', 'oathkeeper', 'role-webhook', 'ui'])
    expect(project.services.kratos.environment.SECRETS_COOKIE).toBe('c')
    expect(JSON.parse(project.services.kratos.environment.SELFSERVICE_FLOWS_LOGIN_AFTER).hooks[0].config.auth.config.value).toBe('Bearer w')
    expect(project.services.kratos.volumes[0].source).toBe(join(dir, 'ory/kratos'))
  }, 600_000)

  it('the roles-off variant is valid too', async () => {
    const dir = await writeProject(testConfig((c) => (c.roles.enabled = false)))
    expect((await composeCheck(join(dir, 'ory/compose.yaml'), {envFile: join(dir, '.env')})).exitCode).toBe(0)
  }, 600_000)

  it('the validator is real: a missing secret, an unknown key and a dangling depends_on are refused', async () => {
    const dir = await writeProject(testConfig(), 'KRATOS_SECRETS_COOKIE=c\n')
    const missing = await composeCheck(join(dir, 'ory/compose.yaml'), {envFile: join(dir, '.env')})
    expect(missing.exitCode).toBe(1)
    expect(missing.stderr).toContain('KRATOS_SECRETS_CIPHER')
    const text = renderCompose(testConfig(), CTX)
    await writeFile(join(dir, '.env'), ENV)
    await writeFile(join(dir, 'ory/bad1.yaml'), text.replace('  kratos:\n', '  kratos:\n    bogus_key: 1\n'))
    expect((await composeCheck(join(dir, 'ory/bad1.yaml'), {envFile: join(dir, '.env')})).stderr).toContain('bogus_key')
    await writeFile(join(dir, 'ory/bad2.yaml'), text.replace('  kratos-migrate:\n', '  kratos-migrat:\n'))
    expect((await composeCheck(join(dir, 'ory/bad2.yaml'), {envFile: join(dir, '.env')})).stderr).toContain('depends on undefined service')
  }, 600_000)
})

describe('compose.yaml with database: postgres', () => {
  const managed = testConfig((c) => (c.database = {engine: 'postgres'}))
  const own = testConfig((c) => (c.database = {engine: 'postgres', urls: {kratos: '${KRATOS_DSN}', keto: 'postgres://keto:pw@127.0.0.1:5432/keto?sslmode=disable'}}))

  it('managed: a postgres service with a health check and a named volume; the databases are created before the migrations; the password only as ${POSTGRES_PASSWORD}', () => {
    const d = parse(renderCompose(managed, CTX)) as Doc
    expect(d.services.postgres.image).toBe('postgres:15')
    expect(d.services.postgres.healthcheck.test).toEqual(['CMD', 'pg_isready', '-h', '127.0.0.1', '-U', 'iam', '-d', 'postgres'])
    expect(d.services.postgres.ports).toEqual(['127.0.0.1:4432:5432'])
    expect(d.volumes).toEqual({'postgres-data': {}})
    expect(d.services.postgres.volumes).toEqual(['postgres-data:/var/lib/postgresql/data'])
    expect(d.services['postgres-databases'].depends_on).toEqual({postgres: {condition: 'service_healthy'}})
    for (const m of ['kratos-migrate', 'keto-migrate']) expect(d.services[m].depends_on).toEqual({'postgres-databases': {condition: 'service_completed_successfully'}})
    expect(d.services.kratos.environment.DSN).toMatch(/^postgres:\/\/iam:\$\{POSTGRES_PASSWORD:\?[^}]*\}@postgres:5432\/kratos\?sslmode=disable$/)
    expect(d.services.keto.environment.DSN).toMatch(/@postgres:5432\/keto\?sslmode=disable$/)
    expect(d.services.kratos.volumes).toEqual(['./kratos:/etc/config/kratos:ro'])
  })

  it('your own server: the URLs as written (${VAR} for compose to fill, loopback through the host); no postgres service, no volumes', () => {
    const d = parse(renderCompose(own, CTX)) as Doc
    expect(d.services.postgres).toBeUndefined()
    expect(d.services.kratos.environment.DSN).toBe('${KRATOS_DSN}')
    expect(d.services.keto.environment.DSN).toBe('postgres://keto:pw@host.docker.internal:5432/keto?sslmode=disable')
    expect(d.volumes).toEqual({})
  })

  it('both are valid compose projects for the real loader; the managed one interpolates the password from .env', async () => {
    const dir = await writeProject(managed, `${ENV}POSTGRES_PASSWORD=pgsecret\n`)
    const result = await composeCheck(join(dir, 'ory/compose.yaml'), {envFile: join(dir, '.env')})
    expect(result.stderr).toBe('')
    expect(result.exitCode).toBe(0)
    const project = JSON.parse(result.stdout) as Doc
    expect(project.services.keto.environment.DSN).toBe('postgres://iam:pgsecret@postgres:5432/keto?sslmode=disable')
    expect(project.services['postgres-databases'].command[2]).toContain('CREATE DATABASE $db')
    const missing = await composeCheck(join(dir, 'ory/compose.yaml'), {envFile: join(await writeProject(managed), '.env')})
    expect(missing.exitCode).toBe(1)
    expect(missing.stderr).toContain('POSTGRES_PASSWORD')
    const ownDir = await writeProject(own, `${ENV}KRATOS_DSN=postgres://k:pw@db.example.com:5432/kratos?sslmode=require\n`)
    const ownResult = await composeCheck(join(ownDir, 'ory/compose.yaml'), {envFile: join(ownDir, '.env')})
    expect(ownResult.exitCode, ownResult.stderr).toBe(0)
    expect((JSON.parse(ownResult.stdout) as Doc).services.kratos.environment.DSN).toBe('postgres://k:pw@db.example.com:5432/kratos?sslmode=require')
  }, 600_000)
})

describe('compose.yaml with Hydra (hydra.enabled)', () => {
  const withHydra = testConfig((c) => {
    c.hydra.enabled = true
    c.routes.push({id: 'machine', match: 'http://127.0.0.1:4455/machine/<**>', methods: ['GET'], upstream: 'http://127.0.0.1:8080', auth: 'client', scopes: ['demo:read'], audience: 'demo-api'})
  })
  const HYDRA_ENV = `${ENV}HYDRA_SECRETS_SYSTEM=system-secret-0123456789\nHYDRA_PAIRWISE_SALT=salt-0123456789abcdef\nCLIENT_CLAIMS_SECRET=hook-key-0123456789abcdef\n`

  it('Hydra migrates before it serves, publishes its admin API on loopback only, and gets its secrets and the hook as ${…}', () => {
    const d = parse(renderCompose(withHydra, CTX)) as Doc
    expect(d.services['hydra-migrate'].command).toEqual(['migrate', 'sql', 'up', '-e', '--yes', '-c', '/etc/config/hydra/hydra.yml'])
    expect(d.services.hydra.image).toBe('oryd/hydra:v26.2.0')
    expect(d.services.hydra.command).toEqual(['serve', 'all', '-c', '/etc/config/hydra/hydra.yml', '--dev'])
    expect(d.services.hydra.depends_on).toEqual({'hydra-migrate': {condition: 'service_completed_successfully'}})
    expect(d.services.hydra.ports).toEqual(['127.0.0.1:4444:4444', '127.0.0.1:4445:4445'])
    expect(d.services.hydra.environment.SECRETS_SYSTEM).toMatch(/^\$\{HYDRA_SECRETS_SYSTEM:\?/)
    const hook = JSON.parse(d.services.hydra.environment.OAUTH2_TOKEN_HOOK) as {url: string; auth: {config: {name: string; value: string}}}
    expect(hook.url).toBe('http://client-claims:4472/hook')
    expect(hook.auth.config).toMatchObject({name: 'Authorization', value: expect.stringMatching(/^Bearer \$\{CLIENT_CLAIMS_SECRET:\?/)})
    expect(d.services['client-claims'].command).toContain('--hydra-admin-url')
    expect(d.services['client-claims'].command).toContain('http://hydra:4445')
    expect(d.volumes).toHaveProperty('hydra-data')
    const oathkeeper = parse(renderAll(withHydra, CTX).find((f) => f.path === 'ory/oathkeeper/oathkeeper.compose.yml')!.content) as Doc
    expect(oathkeeper.authenticators.oauth2_introspection.config.introspection_url).toBe('http://hydra:4445/admin/oauth2/introspect')
  })

  it('is a valid compose project for the real loader once .env provides the secrets; without them it is refused', async () => {
    const dir = await writeProject(withHydra, HYDRA_ENV)
    const result = await composeCheck(join(dir, 'ory/compose.yaml'), {envFile: join(dir, '.env')})
    expect(result.stderr).toBe('')
    expect(result.exitCode).toBe(0)
    const project = JSON.parse(result.stdout) as Doc
    expect(JSON.parse(project.services.hydra.environment.OAUTH2_TOKEN_HOOK).auth.config.value).toBe('Bearer hook-key-0123456789abcdef')
    const missing = await composeCheck(join(dir, 'ory/compose.yaml'), {envFile: join(await writeProject(withHydra), '.env')})
    expect(missing.exitCode).toBe(1)
    expect(missing.stderr).toMatch(/HYDRA_SECRETS_SYSTEM|CLIENT_CLAIMS_SECRET|HYDRA_PAIRWISE_SALT/)
  }, 600_000)
})

describe('rehost', () => {
  it('rewrites loopback hosts only, keeping the rest of the URL as written', async () => {
    const {rehost} = await import('../../src/templates/compose.js')
    expect(rehost('http://127.0.0.1:8080', 'host.docker.internal')).toBe('http://host.docker.internal:8080')
    expect(rehost('http://localhost/api/', 'h')).toBe('http://h/api/')
    expect(rehost('smtp://u:p@127.0.0.1:1025/?disable_starttls=true', 'mailpit', 1025)).toBe('smtp://u:p@mailpit:1025/?disable_starttls=true')
    expect(rehost('https://api.example.com:8443/x', 'h')).toBe('https://api.example.com:8443/x')
  })
})

describe('SMTP inside compose', () => {
  it('the bundled catcher by service name; another loopback SMTP through the host; ${VAR} passed through', () => {
    const env = (smtpUrl: string): string => (parse(renderCompose(testConfig((c) => (c.kratos.smtpUrl = smtpUrl)), CTX)) as Doc).services.kratos.environment.COURIER_SMTP_CONNECTION_URI
    expect(env('smtp://127.0.0.1:11025/?disable_starttls=true')).toBe('smtp://mailpit:1025/?disable_starttls=true')
    expect(env('smtp://localhost:2525/')).toBe('smtp://host.docker.internal:2525/')
    expect(env('smtps://mail.example.com:465/')).toBe('smtps://mail.example.com:465/')
    expect(env('${SMTP_URL}')).toBe('${SMTP_URL}')
  })
})
