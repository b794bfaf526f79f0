import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import type {BinaryVersion} from '../install/installed.js'
import {ORY_SERVERS, ORY_VERSION, type OryServer} from '../ory/servers.js'

export default class Version extends BaseCommand<typeof Version> {
  static override summary = 'Print the iam version, the Ory version it pins, and what each installed Ory binary reports.'
  static override description = `Every runtime runs Ory ${ORY_VERSION}: compose the oryd/*:${ORY_VERSION} images, native the binaries \`iam install\` builds into the cache. For each server this runs the binary the native runtime would start (iam cache, else PATH) with \`version\` and prints what it reports; a binary that reports another version is flagged and the command exits 1 (none installed is not an error: compose needs none).`
  static override examples = ['<%= config.bin %> version', '<%= config.bin %> version --json', '<%= config.bin %> --version --json   # iam only, without running any binary']

  static override flags = {
    'pinned-only': Flags.boolean({description: 'Do not run the installed binaries; print only the pinned versions.'}),
  }

  async run(): Promise<{name: string; version: string; node: string; platform: string; ory: {version: string; servers: Record<OryServer, Partial<BinaryVersion> & {pinned: string}>}}> {
    const {describeReported, installedVersions} = await import('../install/installed.js')
    const servers: Record<OryServer, Partial<BinaryVersion> & {pinned: string}> = this.flags['pinned-only']
      ? (Object.fromEntries(ORY_SERVERS.map((s) => [s, {pinned: ORY_VERSION}])) as Record<OryServer, {pinned: string}>)
      : await installedVersions()
    const result = {
      name: 'iam',
      version: this.config.version,
      node: process.version,
      platform: this.config.platform + '-' + this.config.arch,
      ory: {version: ORY_VERSION, servers},
    }
    if (!this.jsonEnabled()) {
      this.log(`iam/${result.version} ${result.platform} node-${result.node}`)
      this.log(`  ory         ${ORY_VERSION} (compose images and native binaries)`)
      for (const [name, v] of Object.entries(result.ory.servers)) {
        if (v.status === undefined) this.log(`  ${name.padEnd(11)} ${v.pinned}`)
        else this.log(`  ${name.padEnd(11)} ${v.pinned}  binary: ${describeReported({...v, status: v.status})}${v.path ? `  ${v.path}` : v.status === 'missing' ? ' (iam install)' : ''}`)
      }
    }
    if (Object.values(result.ory.servers).some((v) => v.status === 'mismatch')) process.exitCode = 1
    return result
  }
}
