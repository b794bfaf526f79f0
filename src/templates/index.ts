/** Every rendered file of a project, as a pure function of the (reference-resolved) config. */
import type {IamConfig} from '../config/model.js'
import {LAYOUT} from '../project/layout.js'
import {rehost, renderCompose, renderOathkeeperComposeConfig, type ComposeContext} from './compose.js'
import {renderKetoConfig, renderKetoNamespaces} from './keto.js'
import {renderIdentitySchema, renderKratosConfig} from './kratos.js'
import {renderHydraConfig} from './hydra.js'
import {renderOathkeeperConfig, renderOathkeeperRules} from './oathkeeper.js'

export interface RenderedFile {
  /** Path relative to the project directory (LAYOUT). */
  path: string
  content: string
}

export interface RenderContext extends ComposeContext {
  /** Static assets from templates/ory/ (read by the caller). */
  assets: {roleWebhookJsonnet: string}
}

/** All rendered files, sorted by path. Same input → byte-identical output. */
export function renderAll(config: IamConfig, ctx: RenderContext): RenderedFile[] {
  const files: RenderedFile[] = [
    {path: LAYOUT.kratosConfig, content: renderKratosConfig(config)},
    {path: LAYOUT.identitySchema, content: renderIdentitySchema(config)},
    {path: LAYOUT.ketoConfig, content: renderKetoConfig(config)},
    {path: LAYOUT.ketoNamespaces, content: renderKetoNamespaces(config)},
    {path: LAYOUT.oathkeeperConfig, content: renderOathkeeperConfig(config)},
    {path: LAYOUT.oathkeeperRules, content: renderOathkeeperRules(config)},
    {path: LAYOUT.oathkeeperComposeConfig, content: renderOathkeeperComposeConfig(config)},
    {
      path: LAYOUT.oathkeeperComposeRules,
      content: renderOathkeeperRules(config, {
        upstream: (url) => rehost(url, 'host.docker.internal'),
        browser: {kratosPublic: `http://kratos:${config.ports.kratosPublic}`, ui: `http://ui:${config.ports.ui}`},
      }),
    },
    {path: LAYOUT.compose, content: renderCompose(config, ctx)},
  ]
  if (config.roles.enabled) files.push({path: LAYOUT.roleWebhookBody, content: ctx.assets.roleWebhookJsonnet})
  if (config.hydra.enabled) files.push({path: LAYOUT.hydraConfig, content: renderHydraConfig(config)})
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}
