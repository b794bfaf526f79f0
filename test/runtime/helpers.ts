import type {PortsConfig} from '../../src/config/model.js'
import {getFreePort} from '../../src/util/ports.js'

export const PORT_NAMES = ['kratosPublic', 'kratosAdmin', 'ketoRead', 'ketoWrite', 'oathkeeperProxy', 'oathkeeperApi', 'batchAuth', 'roleWebhook', 'mailUi', 'mailSmtp'] as const satisfies readonly (keyof PortsConfig)[]

/** Ten distinct free loopback ports for a project's iam.yaml (tests and benches run stacks side by side). */
export async function freePorts(): Promise<PortsConfig> {
  const ports = {} as PortsConfig
  const seen = new Set<number>()
  for (const name of PORT_NAMES) {
    let port = await getFreePort()
    while (seen.has(port)) port = await getFreePort()
    seen.add(port)
    ports[name] = port
  }
  return ports
}
