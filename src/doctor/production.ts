/**
 * `iam doctor --production`: the deployment checklist of a self-hosted Ory stack, checked on iam.yaml, the rendered
 * files, `.env` and git. The checks are pure (`productionChecks`); `runProductionDoctor` gathers their input. Every
 * finding names its file and key and the fix; a secret's value is never part of a message.
 */
import {tmpdir} from 'node:os'
import {relative, resolve} from 'node:path'

import {execa} from 'execa'
import {parse as parseYaml} from 'yaml'

import {isLoopbackUrl} from '../config/addresses.js'
import {describePostgresUrl, isExternalPostgres, isManagedPostgres} from '../config/database.js'
import {hasEnvRefs, resolveEnvRefs} from '../config/env.js'
import {loadConfig} from '../config/load.js'
import {usesMailCatcher} from '../config/mail.js'
import type {IamConfig} from '../config/model.js'
import {kratosDevMode} from '../plan/services.js'
import {BROWSER_RULE_IDS} from '../templates/oathkeeper.js'
import {LAYOUT, projectPath} from '../project/layout.js'
import {projectEnv, resolveRenderRefs} from '../project/render.js'
import {readSecrets, secretNames} from '../project/secrets.js'
import {readTextIfExists} from '../util/fs.js'
import type {DoctorCheck, DoctorReport} from './index.js'

/** A finding: a check with where it was found. */
export interface ProductionCheck extends DoctorCheck {
  file?: string
  /** The key in that file (`kratos.publicUrl`, `rules[2]`). */
  key?: string
}

export interface ProductionInput {
  config: IamConfig
  /** Rendered files by project-relative path (absent when not rendered). */
  files: Partial<Record<string, string>>
  /** `.env` values by name. */
  secrets: Record<string, string>
  /** Secret or key files git tracks now; undefined when the project is not in a git repository. */
  gitTracked?: string[]
  /** Secret or key files that appear anywhere in git history. */
  gitHistory?: string[]
  /** Where the project lives, relative to the temp folder when inside it. */
  projectInTemp: boolean
}

const MIN_SECRET_LENGTH = 32
const PLACEHOLDER = /change.?me|placeholder|set-from-env|secret|password|^(.)\1+$|example/i
const EXAMPLE_DOMAIN = /@(example\.(com|org|net)|localhost|[^@]+\.(test|example|invalid|local))$/i
const ADMIN_LISTENERS: {file: string; key: string; path: string[]; what: string}[] = [
  {file: LAYOUT.kratosConfig, key: 'serve.admin.host', path: ['serve', 'admin', 'host'], what: 'Kratos admin API'},
  {file: LAYOUT.ketoConfig, key: 'serve.write.host', path: ['serve', 'write', 'host'], what: 'Keto write API'},
  {file: LAYOUT.hydraConfig, key: 'serve.admin.host', path: ['serve', 'admin', 'host'], what: 'Hydra admin API'},
]

const ok = (id: string, message: string): ProductionCheck => ({id, status: 'ok', message})

function yamlOf(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined
  const doc: unknown = parseYaml(text)
  return doc && typeof doc === 'object' ? (doc as Record<string, unknown>) : undefined
}

function at(doc: Record<string, unknown> | undefined, path: string[]): unknown {
  let v: unknown = doc
  for (const p of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[p] : undefined
  return v
}

/** The production checklist over gathered input; pure. */
export function productionChecks(input: ProductionInput): ProductionCheck[] {
  return [
    ...httpsChecks(input.config),
    kratosDevCheck(input.config),
    ...cookieChecks(input),
    ...logChecks(input),
    ...adminChecks(input),
    ...ruleChecks(input),
    ...smtpChecks(input.config),
    ...secretChecks(input),
    ...gitChecks(input),
    ...[databaseCheck(input)].flat(),
  ]
}

const HTTPS_FIX: Record<string, string> = {
  'gateway.publicUrl': 'Set gateway.publicUrl to the https URL clients use, e.g. https://api.example.com (route matches and tokens.issuer follow it).',
  'kratos.publicUrl': "Set kratos.publicUrl to Kratos' https URL, e.g. https://auth.example.com/.",
  'kratos.uiUrl': 'Set kratos.uiUrl to the https URL of your login pages.',
  'tokens.issuer': 'Remove tokens.issuer once gateway.publicUrl is https (it follows it), or set an https issuer.',
  'kratos.allowedReturnUrls': 'List only https URLs of your apps in kratos.allowedReturnUrls.',
  'hydra.publicUrl': "Set hydra.publicUrl to Hydra's https URL, e.g. https://oauth.example.com/ (iam then starts Hydra without --dev).",
}

function httpsChecks(config: IamConfig): ProductionCheck[] {
  const urls: [string, string][] = [
    ['gateway.publicUrl', config.gateway.publicUrl],
    ['kratos.publicUrl', config.kratos.publicUrl],
    ['kratos.uiUrl', config.kratos.uiUrl],
    ['tokens.issuer', config.tokens.issuer],
    ...config.kratos.allowedReturnUrls.map((u, i): [string, string] => [`kratos.allowedReturnUrls[${i}]`, u]),
    // Hydra's token endpoint takes client secrets; with an http issuer iam also starts it with --dev.
    ...(config.hydra.enabled ? [['hydra.publicUrl', config.hydra.publicUrl] as [string, string]] : []),
  ]
  const plain = urls.filter(([, url]) => !hasEnvRefs(url) && !url.startsWith('https://'))
  if (plain.length === 0) return [ok('production.https', 'every public URL, the issuer and every return URL use https')]
  return plain.map(([key, url]) => ({
    id: 'production.https',
    status: 'fail',
    file: LAYOUT.config,
    key,
    message: `${url} is not https: sessions, cookies and id_tokens would cross the network in clear${isLoopbackUrl(url) ? ', and it names this machine' : ''}`,
    fix: HTTPS_FIX[key.replace(/\[\d+\]$/, '')] ?? `Set ${key} to an https URL.`,
  }))
}

function kratosDevCheck(config: IamConfig): ProductionCheck {
  if (!kratosDevMode(config)) return ok('production.kratos-dev', 'Kratos runs without --dev (secure cookies, no dev shortcuts)')
  return {
    id: 'production.kratos-dev',
    status: 'fail',
    file: LAYOUT.config,
    key: 'kratos.publicUrl',
    message: 'Kratos is started with --dev: cookies without Secure, http URLs and dev-only shortcuts allowed',
    fix: 'Give kratos.publicUrl an https URL: iam then starts Kratos without --dev.',
  }
}

function cookieChecks(input: ProductionInput): ProductionCheck[] {
  const kratos = yamlOf(input.files[LAYOUT.kratosConfig])
  const found: ProductionCheck[] = []
  for (const [key, path] of [
    ['cookies.same_site', ['cookies', 'same_site']],
    ['session.cookie.same_site', ['session', 'cookie', 'same_site']],
  ] as const) {
    const value = at(kratos, [...path])
    if (value !== 'Lax' && value !== 'Strict') {
      found.push({id: 'production.cookies', status: 'fail', file: LAYOUT.kratosConfig, key, message: `${key} is ${value === undefined ? 'not set' : String(value)}`, fix: '`iam render` writes Lax; keep it Lax or Strict.'})
    }
  }
  const publicHost = safeHost(input.config.kratos.publicUrl)
  for (const [key, path] of [
    ['cookies.domain', ['cookies', 'domain']],
    ['session.cookie.domain', ['session', 'cookie', 'domain']],
  ] as const) {
    const domain = at(kratos, [...path])
    if (typeof domain === 'string' && publicHost !== undefined && publicHost !== domain && !publicHost.endsWith(`.${domain.replace(/^\./, '')}`)) {
      found.push({id: 'production.cookies', status: 'fail', file: LAYOUT.kratosConfig, key, message: `cookie domain ${domain} does not cover Kratos' public host ${publicHost}: browsers drop the cookie`, fix: `Remove ${key}, or set a parent domain of ${publicHost}.`})
    }
  }
  const cors = at(kratos, ['serve', 'public', 'cors']) as {enabled?: boolean; allowed_origins?: string[]; allow_credentials?: boolean} | undefined
  if (cors?.enabled && (cors.allowed_origins ?? []).includes('*') && cors.allow_credentials !== false) {
    found.push({id: 'production.cors', status: 'fail', file: LAYOUT.kratosConfig, key: 'serve.public.cors', message: 'CORS allows any origin together with credentials', fix: 'List the origins of your apps in allowed_origins.'})
  }
  return found.length > 0 ? found : [ok('production.cookies', 'session cookies set SameSite, no cookie domain that misses the public host, no CORS wildcard with credentials')]
}

function safeHost(url: string): string | undefined {
  try {
    return new URL(url).hostname
  } catch {
    return undefined
  }
}

function logChecks(input: ProductionInput): ProductionCheck[] {
  const found: ProductionCheck[] = []
  for (const file of [LAYOUT.kratosConfig, LAYOUT.ketoConfig, LAYOUT.oathkeeperConfig]) {
    const doc = yamlOf(input.files[file])
    if (at(doc, ['log', 'leak_sensitive_values']) === true) {
      found.push({id: 'production.logs', status: 'fail', file, key: 'log.leak_sensitive_values', message: 'logs would hold secrets, tokens and cookies', fix: 'Remove log.leak_sensitive_values (`iam render --force`).'})
    }
    const level = at(doc, ['log', 'level'])
    if (level === 'debug' || level === 'trace') {
      found.push({id: 'production.logs', status: 'fail', file, key: 'log.level', message: `log level ${level} logs request details`, fix: 'Use info (remove log.level: `iam render --force`).'})
    }
    if (at(doc, ['log', 'expose_internal_errors']) === true || at(doc, ['expose_internal_errors']) === true) {
      found.push({id: 'production.logs', status: 'fail', file, key: 'expose_internal_errors', message: 'internal errors are sent to clients', fix: 'Remove expose_internal_errors (`iam render --force`).'})
    }
  }
  return found.length > 0 ? found : [ok('production.logs', 'no leak_sensitive_values, expose_internal_errors or debug logging')]
}

function adminChecks(input: ProductionInput): ProductionCheck[] {
  const found: ProductionCheck[] = []
  for (const l of ADMIN_LISTENERS) {
    const host = at(yamlOf(input.files[l.file]), l.path)
    if (host !== undefined && host !== '127.0.0.1' && host !== 'localhost' && host !== '::1') {
      found.push({id: 'production.admin-apis', status: 'fail', file: l.file, key: l.key, message: `the ${l.what} listens on ${String(host)}: anyone who reaches it can change identities or permissions`, fix: 'Keep it on 127.0.0.1 (`iam render --force`); reach it from inside the host or namespace only.'})
    }
  }
  // Compose: admin ports must be published on loopback only.
  const compose = input.files[LAYOUT.compose]
  const {ports} = input.config
  for (const [port, what] of [
    [ports.kratosAdmin, 'Kratos admin API'],
    [ports.ketoWrite, 'Keto write API'],
    ...(input.config.hydra.enabled ? ([[ports.hydraAdmin, 'Hydra admin API']] as const) : []),
  ] as const) {
    const published = compose?.match(new RegExp(`^\\s*-\\s*["']?([^"'\\s]*:)?${port}:\\d+["']?\\s*$`, 'gm')) ?? []
    if (published.some((line) => !/127\.0\.0\.1:/.test(line))) {
      found.push({id: 'production.admin-apis', status: 'fail', file: LAYOUT.compose, key: `ports ${port}`, message: `the ${what} is published on every interface`, fix: `Publish it as 127.0.0.1:${port}:${port} (\`iam render --force\`).`})
    }
  }
  return found.length > 0 ? found : [ok('production.admin-apis', `Kratos admin${input.config.hydra.enabled ? ', Hydra admin' : ''} and Keto write listen on loopback only (published on 127.0.0.1 under compose)`)]
}

function ruleChecks(input: ProductionInput): ProductionCheck[] {
  const text = input.files[LAYOUT.oathkeeperRules]
  if (text === undefined) return [{id: 'production.rules', status: 'fail', file: LAYOUT.oathkeeperRules, message: 'not rendered', fix: 'Run `iam render`.'}]
  // The gateway's own browser rules (/.ory/ → Kratos, /ui/ → the sign-in pages) are open by design, as iam renders them.
  const anonymous = new Set([...input.config.routes.filter((r) => r.auth === 'anonymous').map((r) => r.id), ...BROWSER_RULE_IDS])
  const rules = JSON.parse(text) as {id: string; authenticators?: {handler: string}[]; authorizer?: {handler: string}}[]
  const found: ProductionCheck[] = []
  rules.forEach((rule, i) => {
    const open = (rule.authenticators ?? []).some((a) => a.handler === 'anonymous' || a.handler === 'noop') && rule.authorizer?.handler === 'allow'
    if (open && !anonymous.has(rule.id)) {
      found.push({id: 'production.rules', status: 'fail', file: LAYOUT.oathkeeperRules, key: `rules[${i}] (${rule.id})`, message: `rule ${rule.id} lets anyone through, but iam.yaml does not declare it anonymous`, fix: '`iam render --force` rewrites the rules from iam.yaml; declare the route `auth: anonymous` there if it is meant to be public.'})
    }
  })
  return found.length > 0 ? found : [ok('production.rules', `no allow-all rule beyond the ${anonymous.size - BROWSER_RULE_IDS.length} route(s) iam.yaml declares anonymous and the gateway's /.ory/ and /ui/`)]
}

function smtpChecks(config: IamConfig): ProductionCheck[] {
  const found: ProductionCheck[] = []
  const {smtpUrl, fromAddress} = config.kratos
  const fail = (key: string, message: string, fix: string): void => void found.push({id: 'production.smtp', status: 'fail', file: LAYOUT.config, key, message, fix})
  if (usesMailCatcher(config)) fail('kratos.smtpUrl', 'Kratos mails to the local catcher: nobody receives verification or recovery codes', 'Set kratos.smtpUrl to your mail server, e.g. smtps://mailer:${SMTP_PASSWORD}@smtp.example.com:465/.')
  if (/[?&]disable_starttls=true/i.test(smtpUrl)) fail('kratos.smtpUrl', 'SMTP without STARTTLS: codes and links cross the network in clear', 'Remove disable_starttls (or use smtps://).')
  if (/[?&]skip_ssl_verify=true/i.test(smtpUrl)) fail('kratos.smtpUrl', "SMTP does not verify the server's certificate", 'Remove skip_ssl_verify.')
  if (EXAMPLE_DOMAIN.test(fromAddress)) fail('kratos.fromAddress', `${fromAddress} is not a real sender: mail from it is dropped or marked spam`, 'Set kratos.fromAddress to an address of your domain.')
  return found.length > 0 ? found : [ok('production.smtp', 'mail goes to a real SMTP server with TLS, from a real sender')]
}

function secretChecks(input: ProductionInput): ProductionCheck[] {
  const found: ProductionCheck[] = []
  const names = secretNames(input.config).filter((n) => n !== 'ROLE_WEBHOOK_SECRET' || input.config.roles.enabled)
  const seen = new Map<string, string>()
  for (const name of names) {
    const value = input.secrets[name]
    const fail = (message: string): void => void found.push({id: 'production.secrets', status: 'fail', file: LAYOUT.secrets, key: name, message, fix: `Delete ${name} from .env and run \`iam render\`: it generates a new random one.`})
    if (value === undefined || value === '') fail(`${name} is not set`)
    else if (value.length < MIN_SECRET_LENGTH) fail(`${name} is ${value.length} characters; at least ${MIN_SECRET_LENGTH} random ones are needed`)
    else if (PLACEHOLDER.test(value)) fail(`${name} looks like a placeholder, not a random secret`)
    else if (seen.has(value)) fail(`${name} has the same value as ${seen.get(value)}: one leak would expose both`)
    if (value) seen.set(value, name)
  }
  return found.length > 0 ? found : [ok('production.secrets', `${names.join(', ')}: set, random-looking, ${MIN_SECRET_LENGTH}+ characters, none reused`)]
}

function gitChecks(input: ProductionInput): ProductionCheck[] {
  if (input.gitTracked === undefined) return [ok('production.git', 'not a git repository: nothing to leak through git')]
  const found: ProductionCheck[] = input.gitTracked.map((file) => ({id: 'production.git', status: 'fail', file, message: `${file} is tracked by git`, fix: `\`git rm --cached ${file}\`, then rotate what it held (\`iam keys rotate\`, new .env secrets): it was shared with everyone who cloned.`}))
  for (const file of input.gitHistory ?? []) {
    if (input.gitTracked.includes(file)) continue
    found.push({id: 'production.git', status: 'fail', file, message: `${file} is in the git history`, fix: 'Rotate what it held (`iam keys rotate`, new .env secrets); deleting it from history does not un-share it.'})
  }
  return found.length > 0 ? found : [ok('production.git', 'no .env or private key tracked by git or in its history')]
}

function databaseCheck(input: ProductionInput): ProductionCheck | ProductionCheck[] {
  const {database} = input.config
  if (isExternalPostgres(database)) {
    const found: ProductionCheck[] = []
    for (const [server, url] of Object.entries(database.urls ?? {})) {
      const parsed = URL.canParse(url) ? new URL(url) : undefined
      if (parsed && !isLoopbackUrl(url) && /^(disable|allow|prefer)$/.test(parsed.searchParams.get('sslmode') ?? 'prefer')) {
        found.push({id: 'production.database', status: 'fail', file: LAYOUT.config, key: `database.urls.${server}`, message: `${server}'s database at ${describePostgresUrl(url)} is reached without required TLS (sslmode=${parsed.searchParams.get('sslmode') ?? 'prefer (the default)'})`, fix: 'Add sslmode=require (or verify-full) to the URL.'})
      }
    }
    return found.length > 0 ? found : ok('production.database', 'PostgreSQL servers of your own, reached with TLS')
  }
  if (isManagedPostgres(database)) {
    return {id: 'production.database', status: 'warn', file: LAYOUT.config, key: 'database', message: 'the PostgreSQL server iam runs on this machine is for development: one host, no backups, no replication', fix: 'Use your own server: database: {engine: postgres, urls: {kratos: ${KRATOS_DSN}, keto: ${KETO_DSN}}}.'}
  }
  if (input.projectInTemp) {
    return {id: 'production.database', status: 'fail', file: LAYOUT.dataDir, message: 'the SQLite databases live in a temporary folder: a reboot or cleaner deletes every identity and session', fix: 'Move the project out of the temp folder.'}
  }
  return {id: 'production.database', status: 'warn', file: LAYOUT.dataDir, message: 'SQLite files on this machine: one host only, back them up yourself', fix: 'For more than one host, use PostgreSQL.'}
}

const GIT_PATHS = [LAYOUT.secrets, LAYOUT.jwks]

async function gitFacts(projectDir: string): Promise<Pick<ProductionInput, 'gitTracked' | 'gitHistory'>> {
  const git = (args: string[]) => execa('git', args, {cwd: projectDir, reject: false, timeout: 10_000})
  const inside = await git(['rev-parse', '--show-toplevel'])
  if (inside.exitCode !== 0) return {}
  const top = String(inside.stdout).trim()
  const paths = GIT_PATHS.map((p) => relative(top, projectPath(projectDir, p)))
  const back = (p: string): string => relative(projectDir, resolve(top, p))
  const tracked = await git(['-C', top, 'ls-files', '--', ...paths])
  const history = await git(['-C', top, 'log', '--all', '--format=', '--name-only', '--', ...paths])
  const lines = (s: unknown): string[] => [...new Set(String(s).split('\n').filter(Boolean))].map(back)
  return {gitTracked: lines(tracked.stdout), gitHistory: lines(history.stdout)}
}

const FILES = [LAYOUT.kratosConfig, LAYOUT.ketoConfig, LAYOUT.oathkeeperConfig, LAYOUT.oathkeeperRules, LAYOUT.compose, LAYOUT.hydraConfig]

export async function runProductionDoctor(o: {projectDir: string; env?: NodeJS.ProcessEnv}): Promise<DoctorReport & {checks: ProductionCheck[]}> {
  const projectDir = resolve(o.projectDir)
  const env = o.env ?? (await projectEnv(projectDir))
  // URLs given as ${VAR} are checked as they will be used (resolved as `iam render` resolves them).
  const config = resolveRenderRefs((await loadConfig(projectDir, {env})).config, env)
  const {urls} = config.database
  const resolved = urls
    ? {...config, database: {...config.database, urls: {kratos: resolveEnvRefs(urls.kratos, env), keto: resolveEnvRefs(urls.keto, env), ...(urls.hydra === undefined ? {} : {hydra: resolveEnvRefs(urls.hydra, env)})}}}
    : config
  const files: Partial<Record<string, string>> = {}
  for (const file of FILES) files[file] = await readTextIfExists(projectPath(projectDir, file))
  const secrets = await readSecrets(projectDir).catch(() => ({}) as Record<string, string>)
  const projectInTemp = !relative(resolve(tmpdir()), projectDir).startsWith('..')
  const checks = productionChecks({config: resolved, files, secrets: secrets as Record<string, string>, ...(await gitFacts(projectDir)), projectInTemp})
  return {projectDir, checks, ok: checks.every((c) => c.status !== 'fail')}
}
