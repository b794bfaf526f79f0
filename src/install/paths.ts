import {homedir} from 'node:os'
import {join} from 'node:path'

import {ORY_SPECS, type OryServer} from '../ory/servers.js'

/**
 * Where iam keeps per-user data. `IAM_HOME` overrides everything (tests and CI point it at a temp or cached dir);
 * otherwise the XDG cache dir.
 */
export function iamHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.IAM_HOME) return env.IAM_HOME
  const xdg = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.length > 0 ? env.XDG_CACHE_HOME : join(homedir(), '.cache')
  return join(xdg, 'iam')
}

/** Directory holding one installed server version: `<home>/bin/<server>/<version>/`. */
export function serverInstallDir(server: OryServer, version = ORY_SPECS[server].version, env: NodeJS.ProcessEnv = process.env): string {
  return join(iamHome(env), 'bin', server, version)
}

/** Path of the installed binary for a server version. */
export function serverBinaryPath(server: OryServer, version = ORY_SPECS[server].version, env: NodeJS.ProcessEnv = process.env): string {
  return join(serverInstallDir(server, version, env), server)
}
