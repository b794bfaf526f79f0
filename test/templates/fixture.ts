import {defaultConfig} from '../../src/config/defaults.js'
import type {IamConfig} from '../../src/config/model.js'
import type {RenderContext} from '../../src/templates/index.js'

/** The starter config with distinct, non-default ports so tests see where each port lands. */
export function testConfig(mutate: (c: IamConfig) => void = () => {}): IamConfig {
  const config = defaultConfig('demo', {
    ports: {kratosPublic: 14433, kratosAdmin: 14434, ketoRead: 14466, ketoWrite: 14467, ketoMetrics: 14468, ketoOpl: 14469, oathkeeperProxy: 14455, oathkeeperApi: 14456, oathkeeperMetrics: 14457, batchAuth: 14470, roleWebhook: 14471, mailUi: 14436, mailSmtp: 11025},
  })
  mutate(config)
  return config
}

export const CTX: RenderContext = {packageName: 'iam-stack', packageVersion: '9.9.9', assets: {roleWebhookJsonnet: 'function(ctx) { identity_id: ctx.identity.id }\n'}}

/** Secrets as Kratos receives them from env, for validating the config the server actually sees. */
export const ENV_SECRETS = {cookie: ['c'.repeat(43)], cipher: ['k'.repeat(32)], default: ['d'.repeat(43)]}
