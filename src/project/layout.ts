/**
 * The rendered project layout: where every file `iam render` writes lives, relative to the project directory.
 * One source of truth for the renderers, the runtimes (native: cwd = the server's own directory, so the relative
 * `file://./…` paths inside the configs resolve there; compose: the same directories mounted as working_dir) and tests.
 */
import {join} from 'node:path'

import type {DatabaseServer} from '../config/database.js'
import {PROJECT_FILES} from '../config/model.js'
import type {OryServer} from '../ory/servers.js'

export const LAYOUT = {
  config: PROJECT_FILES.config,
  /** Secrets, mode 0600, gitignored: see SECRET_NAMES. */
  secrets: PROJECT_FILES.secrets,
  oryDir: PROJECT_FILES.renderedDir,
  kratosDir: 'ory/kratos',
  kratosConfig: 'ory/kratos/kratos.yml',
  identitySchema: 'ory/kratos/identity.schema.json',
  kratosHooksDir: 'ory/kratos/hooks',
  /** Jsonnet body of the role web hook (rendered only when roles are enabled). */
  roleWebhookBody: 'ory/kratos/hooks/role-webhook.jsonnet',
  ketoDir: 'ory/keto',
  ketoConfig: 'ory/keto/keto.yml',
  ketoNamespaces: 'ory/keto/namespaces.keto.ts',
  oathkeeperDir: 'ory/oathkeeper',
  oathkeeperConfig: 'ory/oathkeeper/oathkeeper.yml',
  /** oathkeeper.yml for the compose runtime (service-name URLs, rules.compose.json). */
  oathkeeperComposeConfig: 'ory/oathkeeper/oathkeeper.compose.yml',
  /** Access rules for the native runtime (upstreams as written in iam.yaml). */
  oathkeeperRules: 'ory/oathkeeper/rules.json',
  /** Same rules for the compose runtime: loopback upstreams rewritten to host.docker.internal. */
  oathkeeperComposeRules: 'ory/oathkeeper/rules.compose.json',
  hydraDir: 'ory/hydra',
  /** Hydra's config (only with `hydra.enabled`); its secrets come from `.env` through the environment. */
  hydraConfig: 'ory/hydra/hydra.yml',
  /** id_token signing keys, mode 0600, gitignored; created by `iam render`/`iam init` when missing. */
  jwks: PROJECT_FILES.jwks,
  compose: 'ory/compose.yaml',
  /**
   * sha256 of every file as `iam render` last wrote it. Committed next to the rendered files (it holds no secret) so
   * hand-edit detection works in a fresh clone: a file whose hash differs from its entry was edited by someone else.
   */
  manifest: 'ory/.iam-render.json',
  stateDir: PROJECT_FILES.stateDir,
  dataDir: '.iam/data',
  logsDir: '.iam/logs',
} as const

/** Paths relative to the server's own directory (the cwd the native runtime starts it in). */
export const SERVER_RELATIVE = {
  identitySchema: 'file://./identity.schema.json',
  roleWebhookBody: 'file://./hooks/role-webhook.jsonnet',
  ketoNamespaces: 'file://./namespaces.keto.ts',
  oathkeeperRules: 'file://./rules.json',
  oathkeeperComposeRules: 'file://./rules.compose.json',
  jwks: 'file://./jwks.json',
} as const

/** Names of the secrets every project has in `.env`. */
export const SECRET_NAMES = ['KRATOS_SECRETS_COOKIE', 'KRATOS_SECRETS_CIPHER', 'KRATOS_SECRETS_DEFAULT', 'ROLE_WEBHOOK_SECRET'] as const
/** Secrets generated only when iam.yaml needs them (see project/secrets.ts secretNames). */
export const OPTIONAL_SECRET_NAMES = ['POSTGRES_PASSWORD', 'HYDRA_SECRETS_SYSTEM', 'HYDRA_PAIRWISE_SALT', 'CLIENT_CLAIMS_SECRET'] as const
/** The secrets Hydra needs (with hydra.enabled): its system secret, the pairwise salt, the token hook's key. */
export const HYDRA_SECRET_NAMES = ['HYDRA_SECRETS_SYSTEM', 'HYDRA_PAIRWISE_SALT', 'CLIENT_CLAIMS_SECRET'] as const
export type SecretName = (typeof SECRET_NAMES)[number] | (typeof OPTIONAL_SECRET_NAMES)[number]

/** Absolute path of a layout entry inside `projectDir`. */
export function projectPath(projectDir: string, relative: string): string {
  return join(projectDir, ...relative.split('/'))
}

/** SQLite file of a server's database for the native runtime (absolute). */
export function sqlitePath(projectDir: string, server: DatabaseServer): string {
  return join(projectPath(projectDir, LAYOUT.dataDir), `${server}.db`)
}

/** DSN of a server's SQLite database for the native runtime, passed as env `DSN`. */
export function sqliteDsn(projectDir: string, server: DatabaseServer): string {
  return `sqlite://${sqlitePath(projectDir, server)}?_fk=true&mode=rwc`
}
