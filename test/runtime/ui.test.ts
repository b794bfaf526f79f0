import {PassThrough} from 'node:stream'
import {describe, expect, it} from 'vitest'

import {defaultConfig} from '../../src/config/defaults.js'
import {usesMailCatcher} from '../../src/config/mail.js'
import type {IamConfig} from '../../src/config/model.js'
import {endpoints, planServices} from '../../src/plan/services.js'
import type {StatusReport} from '../../src/runtime/types.js'
import {applyEvent, createProgress} from '../../src/ui/progress.js'
import {formatEndpoints, formatEnv, formatStatusTable} from '../../src/ui/status-format.js'

function capture(): {stream: PassThrough & {isTTY?: boolean}; text: () => string} {
  const stream = new PassThrough()
  let text = ''
  stream.on('data', (b: Buffer) => (text += b.toString()))
  return {stream, text: () => text}
}

describe('service plan', () => {
  it('batch-auth runs only when a route uses anyOf, role-webhook only when roles are enabled, mail only for the bundled SMTP URL', () => {
    const full = defaultConfig('demo')
    expect(planServices(full).map((s) => s.name)).toEqual(['kratos', 'keto', 'batch-auth', 'role-webhook', 'mail', 'ui', 'example-app', 'oathkeeper'])
    expect(planServices(full).find((s) => s.name === 'mail')).toMatchObject({ports: {smtp: 1025, http: 4436}, healthUrls: ['http://127.0.0.1:4436/health/ready']})
    const ownSmtp = {...full, kratos: {...full.kratos, smtpUrl: 'smtps://user:pw@smtp.example.com:465/'}}
    const bare = {...ownSmtp, roles: {...full.roles, enabled: false}, routes: full.routes.filter((r) => !r.authorization?.anyOf), exampleApp: false, kratos: {...ownSmtp.kratos, uiUrl: 'https://login.example.com/'}}
    expect(planServices(bare).map((s) => s.name)).toEqual(['kratos', 'keto', 'oathkeeper'])
  })

  it('the mail catcher is ours only for a loopback SMTP URL on ports.mailSmtp, never for a ${VAR} URL', () => {
    const config = defaultConfig('demo')
    const withUrl = (smtpUrl: string): IamConfig => ({...config, kratos: {...config.kratos, smtpUrl}})
    expect(usesMailCatcher(config)).toBe(true)
    expect(usesMailCatcher(withUrl('smtp://localhost:1025/'))).toBe(true)
    expect(usesMailCatcher(withUrl('smtp://127.0.0.1:2525/'))).toBe(false)
    expect(usesMailCatcher(withUrl('smtp://mail.internal:1025/'))).toBe(false)
    expect(usesMailCatcher(withUrl('${SMTP_URL}'))).toBe(false)
  })

  it('status -o env lines: every endpoint, the mail UI when a catcher runs, never a secret', () => {
    const config = defaultConfig('demo', {ports: {kratosPublic: 5433}})
    const env = formatEnv(endpoints(config, {runtime: 'native'}))
    expect(env.split('\n').filter(Boolean)).toEqual([
      'GATEWAY_URL=http://127.0.0.1:4455',
      'KRATOS_PUBLIC_URL=http://127.0.0.1:5433',
      'KRATOS_ADMIN_URL=http://127.0.0.1:4434',
      'KETO_READ_URL=http://127.0.0.1:4466',
      'KETO_WRITE_URL=http://127.0.0.1:4467',
      'OATHKEEPER_PROXY_URL=http://127.0.0.1:4455',
      'OATHKEEPER_API_URL=http://127.0.0.1:4456',
      'JWKS_URL=http://127.0.0.1:4456/.well-known/jwks.json',
      'BATCH_AUTH_URL=http://127.0.0.1:4470',
      'ROLE_WEBHOOK_URL=http://127.0.0.1:4471',
      'MAIL_UI_URL=http://127.0.0.1:4436',
      'SIGN_IN_URL=http://127.0.0.1:4455/ui/login',
      'EXAMPLE_APP_URL=http://127.0.0.1:4455/app/',
    ])
    const ownSmtp = {...config, kratos: {...config.kratos, smtpUrl: 'smtp://mail.internal:25/'}}
    expect(formatEnv(endpoints(ownSmtp, {runtime: 'native'}))).not.toContain('MAIL_UI_URL')
    expect(formatEnv(endpoints(ownSmtp, {runtime: 'compose'}))).toContain('MAIL_UI_URL=http://127.0.0.1:4436')
    const table = formatEndpoints(endpoints(config, {runtime: 'native'}), {secretsFile: '.env'})
    expect(table).toContain('JWKS')
    expect(table).toContain('Secrets: .env (mode 0600; values are never printed)')
  })
})

describe('status table', () => {
  it('one row per service with state, pid, ports, version, health, and a summary naming what is not ready', () => {
    const report: StatusReport = {
      runtime: 'native',
      project: 'demo',
      healthy: false,
      services: [
        {name: 'kratos', state: 'ready', pid: 101, ports: {public: 4433, admin: 4434}, urls: {}, version: 'v26.2.0', health: 'ready'},
        {name: 'keto', state: 'crashed', pid: 102, ports: {read: 4466}, urls: {}, version: 'v26.2.0', health: 'process 102 is gone'},
      ],
    }
    const text = formatStatusTable(report)
    const lines = text.split('\n')
    expect(lines[0]).toMatch(/^SERVICE\s+STATE\s+PID\s+PORTS\s+VERSION\s+HEALTH$/)
    expect(lines[1]).toMatch(/^kratos\s+ready\s+101\s+public:4433 admin:4434\s+v26\.2\.0\s+ready$/)
    expect(lines[2]).toMatch(/^keto\s+crashed\s+102\s+read:4466\s+v26\.2\.0\s+process 102 is gone$/)
    expect(text).toContain('native runtime, project demo: keto crashed')
  })
})

describe('progress', () => {
  it('folds events into one line per service in plan order', () => {
    let lines = applyEvent([], {type: 'plan', services: ['kratos', 'keto']})
    lines = applyEvent(lines, {type: 'service', service: 'keto', state: 'migrating', elapsedMs: 10})
    lines = applyEvent(lines, {type: 'service', service: 'keto', state: 'ready', elapsedMs: 900})
    expect(lines).toEqual([
      {service: 'kratos', state: 'pending', sinceMs: 0},
      {service: 'keto', state: 'ready', sinceMs: 900, readyMs: 900},
    ])
  })

  it('plain lines when not a TTY', async () => {
    const out = capture()
    const p = await createProgress({stream: out.stream})
    p.onEvent({type: 'service', service: 'kratos', state: 'migrating', elapsedMs: 1200})
    p.onEvent({type: 'service', service: 'kratos', state: 'ready', elapsedMs: 3400})
    await p.done()
    expect(out.text()).toBe('[kratos] migrating (1.2s)\n[kratos] ready (3.4s)\n')
  })

  it('one JSON event per line with --json', async () => {
    const out = capture()
    const p = await createProgress({stream: out.stream, json: true})
    p.onEvent({type: 'plan', services: ['kratos']})
    p.onEvent({type: 'service', service: 'kratos', state: 'starting', elapsedMs: 5})
    const events = out.text().trim().split('\n').map((l) => JSON.parse(l))
    expect(events).toEqual([
      {event: 'plan', services: ['kratos']},
      {event: 'service', subject: 'kratos', state: 'starting', elapsedMs: 5},
    ])
  })

  it('the ink view on a terminal draws a line per service', async () => {
    const out = capture()
    out.stream.isTTY = true
    const p = await createProgress({stream: out.stream, interactive: true})
    p.onEvent({type: 'plan', services: ['kratos', 'oathkeeper']})
    p.onEvent({type: 'service', service: 'kratos', state: 'ready', elapsedMs: 2500})
    await p.done()
    const text = out.text()
    expect(text).toMatch(/kratos\s+ready\s+2\.5s/)
    expect(text).toMatch(/oathkeeper\s+pending/)
  })

  it('quiet prints nothing', async () => {
    const out = capture()
    const p = await createProgress({stream: out.stream, quiet: true})
    p.onEvent({type: 'service', service: 'kratos', state: 'ready', elapsedMs: 1})
    expect(out.text()).toBe('')
  })
})
