import {stat} from 'node:fs/promises'
import {basename, dirname, resolve} from 'node:path'

import {loadConfig, type LoadedConfig} from '../config/load.js'
import type {IamConfig} from '../config/model.js'
import {ExitCode, IamError, isIamError} from '../errors.js'
import {KETO_DEFAULT_READ_URL, KETO_DEFAULT_WRITE_URL, KetoClient} from '../ory/keto-client.js'
import {KRATOS_DEFAULT_ADMIN_URL, KRATOS_DEFAULT_PUBLIC_URL, KratosAdminClient, KratosPublicClient} from '../ory/kratos-client.js'
import {HYDRA_DEFAULT_ADMIN_URL, HYDRA_DEFAULT_PUBLIC_URL, HydraAdminClient, HydraPublicClient} from '../ory/hydra-client.js'
import {DEFAULT_ROLE_SHAPE, type RoleTupleShape} from '../roles/sync.js'

/** Where the Ory APIs are and how roles are stored, from flags, else iam.yaml, else Ory's defaults. */
export interface OryContext {
  kratosAdminUrl: string
  /** Kratos' public API (password logins of `identities create`). */
  kratosPublicUrl: string
  ketoReadUrl: string
  ketoWriteUrl: string
  /** Hydra's admin API (clients, token revocation) and public API (the token endpoint). */
  hydraAdminUrl: string
  hydraPublicUrl: string
  roles: RoleTupleShape
  /** Default identity schema id for created identities. */
  schemaId: string
  config?: IamConfig
  configPath?: string
}

export interface EndpointFlags {
  'kratos-admin-url'?: string
  'kratos-public-url'?: string
  'keto-read-url'?: string
  'keto-write-url'?: string
  'hydra-admin-url'?: string
  'hydra-public-url'?: string
  /** `-C, --dir`: the project directory (or its iam.yaml). */
  dir?: string
}


/**
 * Loads iam.yaml. `-C, --dir` names the project directory (its iam.yaml file is accepted too); without it the current directory is
 * tried and a missing iam.yaml is fine (Ory defaults apply). An iam.yaml that exists but is invalid always fails.
 */
export async function loadProjectConfig(dirFlag: string | undefined, o: {cwd?: string; env?: NodeJS.ProcessEnv} = {}): Promise<LoadedConfig | undefined> {
  const cwd = o.cwd ?? process.cwd()
  let projectDir = cwd
  if (dirFlag !== undefined) {
    const p = resolve(cwd, dirFlag)
    const s = await stat(p).catch(() => undefined)
    if (!s) throw new IamError('CONFIG_NOT_FOUND', `No such directory: ${dirFlag}`, {exitCode: ExitCode.Usage, suggestion: 'Pass the project directory (the one holding iam.yaml): -C <dir>.'})
    if (s.isDirectory()) projectDir = p
    else {
      if (basename(p) !== 'iam.yaml') {
        throw new IamError('CONFIG_NAME', `-C/--dir must name a project directory (or its iam.yaml), not ${basename(p)}.`, {exitCode: ExitCode.Usage, suggestion: 'Pass the directory holding iam.yaml: -C <dir>.'})
      }
      projectDir = dirname(p)
    }
  }
  try {
    return await loadConfig(projectDir, {env: o.env})
  } catch (error) {
    if (dirFlag === undefined && isIamError(error) && error.code === 'CONFIG_NOT_FOUND') return undefined
    throw error
  }
}

export async function resolveOryContext(flags: EndpointFlags, o: {cwd?: string; env?: NodeJS.ProcessEnv} = {}): Promise<OryContext> {
  const loaded = await loadProjectConfig(flags.dir, o)
  const base = loaded ? contextFromConfig(loaded.config, loaded.path) : defaultContext()
  return {
    ...base,
    kratosAdminUrl: flags['kratos-admin-url'] ?? base.kratosAdminUrl,
    kratosPublicUrl: flags['kratos-public-url'] ?? base.kratosPublicUrl,
    ketoReadUrl: flags['keto-read-url'] ?? base.ketoReadUrl,
    ketoWriteUrl: flags['keto-write-url'] ?? base.ketoWriteUrl,
    hydraAdminUrl: flags['hydra-admin-url'] ?? base.hydraAdminUrl,
    hydraPublicUrl: flags['hydra-public-url'] ?? base.hydraPublicUrl,
  }
}

/** Ory's own defaults, used when there is no iam.yaml. */
export function defaultContext(): OryContext {
  return {kratosAdminUrl: KRATOS_DEFAULT_ADMIN_URL, kratosPublicUrl: KRATOS_DEFAULT_PUBLIC_URL, ketoReadUrl: KETO_DEFAULT_READ_URL, ketoWriteUrl: KETO_DEFAULT_WRITE_URL, hydraAdminUrl: HYDRA_DEFAULT_ADMIN_URL, hydraPublicUrl: HYDRA_DEFAULT_PUBLIC_URL, roles: DEFAULT_ROLE_SHAPE, schemaId: 'default'}
}

/** The loopback URLs of a project's Ory APIs (from iam.yaml ports) and its roles namespace. */
export function contextFromConfig(config: IamConfig, configPath?: string): OryContext {
  const local = (port: number): string => `http://127.0.0.1:${port}`
  return {
    kratosAdminUrl: local(config.ports.kratosAdmin),
    kratosPublicUrl: local(config.ports.kratosPublic),
    ketoReadUrl: local(config.ports.ketoRead),
    ketoWriteUrl: local(config.ports.ketoWrite),
    hydraAdminUrl: local(config.ports.hydraAdmin),
    hydraPublicUrl: config.hydra.publicUrl,
    roles: {namespace: config.roles.namespace, relation: config.roles.relation},
    schemaId: 'default',
    config,
    ...(configPath ? {configPath} : {}),
  }
}

export interface OryClients {
  keto: KetoClient
  kratos: KratosAdminClient
  kratosPublic: KratosPublicClient
  hydra: HydraAdminClient
  hydraPublic: HydraPublicClient
  close(): Promise<void>
}

export function createClients(ctx: OryContext, o: {timeoutMs?: number} = {}): OryClients {
  const keto = new KetoClient({readUrl: ctx.ketoReadUrl, writeUrl: ctx.ketoWriteUrl, timeoutMs: o.timeoutMs})
  const kratos = new KratosAdminClient({adminUrl: ctx.kratosAdminUrl, timeoutMs: o.timeoutMs})
  const kratosPublic = new KratosPublicClient({publicUrl: ctx.kratosPublicUrl, timeoutMs: o.timeoutMs})
  const hydra = new HydraAdminClient({adminUrl: ctx.hydraAdminUrl, timeoutMs: o.timeoutMs})
  const hydraPublic = new HydraPublicClient({publicUrl: ctx.hydraPublicUrl, timeoutMs: o.timeoutMs})
  return {
    keto,
    kratos,
    kratosPublic,
    hydra,
    hydraPublic,
    async close() {
      await Promise.all([keto.close(), kratos.close(), kratosPublic.close(), hydra.close(), hydraPublic.close()])
    },
  }
}

/** Resolves endpoints, opens clients, runs `fn` and always closes the connection pools. */
export async function withOry<T>(flags: EndpointFlags & {timeout?: number}, fn: (clients: OryClients, ctx: OryContext) => Promise<T>): Promise<T> {
  const ctx = await resolveOryContext(flags)
  const clients = createClients(ctx, {timeoutMs: flags.timeout})
  try {
    return await fn(clients, ctx)
  } finally {
    await clients.close()
  }
}
