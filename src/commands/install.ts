import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {ORY_SERVERS, ORY_SPECS, type OryServer} from '../ory/servers.js'
import type {InstallResult} from '../install/index.js'

export default class Install extends BaseCommand<typeof Install> {
  static override summary = 'Install the pinned Ory binaries (Oathkeeper, Keto, Kratos) into the per-user cache.'

  static override description = `Puts ${ORY_SERVERS.map((s) => `${s} ${ORY_SPECS[s].version}`).join(', ')} into $IAM_HOME/bin (default: $XDG_CACHE_HOME/iam or ~/.cache/iam) and checks that each binary runs and reports its pinned version. Idempotent: a binary already installed and reporting the pinned version is left alone (--force rebuilds it).

Two sources:
  release archives (default): Ory's release archive for this platform, downloaded with timeouts and installed only when its SHA-256 matches a pinned checksum, --sha256 or a --checksums file (fail closed). URL template placeholders: {server} {version} {semver} {os} {arch} {sqlite} {platform}.
  --from-source: builds from the Go module proxy with the local Go toolchain (Go ≥1.22, gcc for cgo). A cold build takes minutes per binary; a failed build keeps its full log under $IAM_HOME/logs/.`

  static override examples = [
    {description: 'Build all three from source (what CI and these machines use)', command: '<%= config.bin %> install --from-source'},
    {description: 'Install only Kratos from its release archive, with a checksum you verified', command: '<%= config.bin %> install kratos --sha256 <hex>'},
    {description: 'Install all from a mirror, checking against Ory\'s checksums.txt files', command: '<%= config.bin %> install --url-template "https://mirror.example/{server}/{version}/{server}_{semver}-{platform}.tar.gz" --checksums checksums.txt'},
    {description: 'Rebuild Keto and print the result as JSON', command: '<%= config.bin %> install keto --from-source --force --json'},
  ]

  static override args = {
    server: Args.string({description: 'Which server to install.', options: [...ORY_SERVERS, 'all'], default: 'all'}),
  }

  static override flags = {
    'from-source': Flags.boolean({description: 'Build from the Go module proxy with the local Go toolchain instead of downloading release archives.'}),
    force: Flags.boolean({description: 'Reinstall even if the pinned version is already installed.'}),
    'url-template': Flags.string({
      // No `exclusive` here: a user's IAM_INSTALL_URL_TEMPLATE must not break --from-source, which just ignores it.
      description: 'Release archive URL template (ignored with --from-source).',
      env: 'IAM_INSTALL_URL_TEMPLATE',
    }),
    sha256: Flags.string({description: 'Expected SHA-256 of the release archive (one server only).', exclusive: ['from-source', 'checksums']}),
    checksums: Flags.string({description: 'A checksums.txt ("<sha256>  <archive file name>" lines) to verify release archives against.', exclusive: ['from-source']}),
  }

  async run(): Promise<{servers: InstallResult[]}> {
    const {installServers} = await import('../install/index.js')
    const servers: OryServer[] = this.args.server === 'all' ? [...ORY_SERVERS] : [this.args.server as OryServer]
    const results = await installServers(servers, {
      fromSource: this.flags['from-source'],
      force: this.flags.force,
      reporter: this.reporter,
      urlTemplate: this.flags['url-template'],
      sha256: this.flags.sha256,
      checksumsFile: this.flags.checksums,
    })
    if (!this.jsonEnabled()) {
      for (const r of results) {
        const what = r.action === 'installed' ? `installed (${r.source}, ${(r.durationMs / 1000).toFixed(1)}s)` : 'already installed'
        this.log(`${r.server.padEnd(10)} ${r.version.padEnd(8)} ${what.padEnd(34)} ${r.path}`)
      }
    }
    return {servers: results}
  }
}
