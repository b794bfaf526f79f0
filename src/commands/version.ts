import {BaseCommand} from '../cli/base-command.js'
import {ORY_SPECS, ORY_IMAGE_VERSION} from '../ory/servers.js'

export default class Version extends BaseCommand<typeof Version> {
  static override description = 'Print the iam version and the Ory versions it pins.'
  static override examples = ['<%= config.bin %> version', '<%= config.bin %> --version --json']

  async run(): Promise<{name: string; version: string; node: string; platform: string; ory: Record<string, string>}> {
    const ory = Object.fromEntries([
      ...Object.values(ORY_SPECS).map((s) => [s.name, s.version] as const),
      ['images', ORY_IMAGE_VERSION] as const,
    ])
    const result = {name: 'iam', version: this.config.version, node: process.version, platform: this.config.platform + '-' + this.config.arch, ory}
    if (!this.jsonEnabled()) {
      this.log(`iam/${result.version} ${result.platform} node-${result.node}`)
      for (const [name, version] of Object.entries(ory)) this.log(`  ${name.padEnd(11)} ${version}`)
    }
    return result
  }
}
