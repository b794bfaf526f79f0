/** Before anything starts: every port the stack will listen on must be free; otherwise name who holds it. */
import {environmentError} from '../errors.js'
import {describePortOwner, isPortFree} from '../util/ports.js'

export interface PlannedPort {
  service: string
  name: string
  port: number
}

/** Throws PORT_IN_USE (exit 3) naming each taken port, its service and the owning process when it can be found. */
export async function assertPortsFree(ports: PlannedPort[]): Promise<void> {
  const taken: (PlannedPort & {owner?: string})[] = []
  for (const p of ports) {
    if (await isPortFree(p.port)) continue
    const owner = await describePortOwner(p.port)
    taken.push({...p, ...(owner ? {owner: `pid ${owner.pid} (${owner.command.slice(0, 120)})`} : {})})
  }
  if (taken.length === 0) return
  const lines = taken.map((t) => `port ${t.port} (${t.service} ${t.name}) is in use${t.owner ? ` by ${t.owner}` : ''}`)
  throw environmentError('PORT_IN_USE', `Cannot start: ${lines.join('; ')}. Nothing was started.`, {
    suggestion: `Stop the process holding the port${taken.length > 1 ? 's' : ''} (another \`iam up\`? run \`iam down\` in that project), or change ports in iam.yaml.`,
    details: {ports: taken},
  })
}
