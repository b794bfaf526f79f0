import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {ORY_SERVERS, ORY_VERSION, type OryServer} from '../ory/servers.js'
import type {InstallResult} from '../install/index.js'

export default class Install extends BaseCommand<typeof Install> {
  static override summary = `Install the Ory ${ORY_VERSION} binaries (${ORY_SERVERS.join(', ')}) into the per-user cache.`

  static override description = `Puts ${ORY_SERVERS.join(', ')} ${ORY_VERSION} — the same servers compose runs as oryd/*:${ORY_VERSION} — into $IAM_HOME/bin (default: $XDG_CACHE_HOME/iam or ~/.cache/iam) and checks that each binary runs and reports ${ORY_VERSION}. Idempotent: a binary already installed and reporting the pinned version is left alone (--force rebuilds it).

Two sources:
  release archives (default): Ory's release archive for this platform, downloaded with timeouts and installed only when its SHA-256 matches: a pinned checksum, --sha256, a --checksums file, or else the checksums.txt the release publishes beside its archives (fail closed: an archive no list names is refused). URL template placeholders: {server} {version} {semver} {os} {arch} {sqlite} {platform}.
  --from-source: builds with the local Go toolchain (Go ≥1.26 and a C compiler; Kratos and Keto need cgo for SQLite) from the tag's source archive — from --source-archives / $IAM_ORY_SOURCE_ARCHIVES (a directory holding <server>-${ORY_VERSION}.tar.gz or GitHub's <server>-${ORY_VERSION.slice(1)}.tar.gz, or one archive file), else downloaded from GitHub. The extracted tree must match the pinned tree hash (file names, modes, contents) or nothing is built; dependencies come from the Go module proxy, checked against the tree's go.sum. A cold build takes minutes per binary; a failed build keeps its full log under $IAM_HOME/logs/.`

  static override examples = [
    {description: 'Build all four from the archives in a local directory (offline, CI)', command: '<%= config.bin %> install --from-source --source-archives ../shared/ory/src'},
    {description: 'Build all four, downloading the tags\' source archives from GitHub', command: '<%= config.bin %> install --from-source'},
    {description: 'Install all from Ory\'s release archives, verified against the release\'s checksums.txt', command: '<%= config.bin %> install'},
    {description: 'Install only Kratos from its release archive, with a checksum you verified', command: '<%= config.bin %> install kratos --sha256 <hex>'},
    {description: 'Rebuild Keto and print the result as JSON', command: '<%= config.bin %> install keto --from-source --force --json'},
  ]

  static override args = {
    server: Args.string({description: 'Which server to install.', options: [...ORY_SERVERS, 'all'], default: 'all'}),
  }

  static override flags = {
    'from-source': Flags.boolean({description: 'Build from the tags\' source archives with the local Go toolchain instead of downloading release archives.'}),
    'source-archives': Flags.string({
      description: 'With --from-source: a directory holding the source archives, or one archive file (default: download from GitHub).',
      env: 'IAM_ORY_SOURCE_ARCHIVES',
      helpValue: '<dir|file>',
    }),
    force: Flags.boolean({description: 'Reinstall even if the pinned version is already installed.'}),
    'url-template': Flags.string({
      // No `exclusive` here: a user's IAM_INSTALL_URL_TEMPLATE must not break --from-source, which just ignores it.
      description: 'Release archive URL template (ignored with --from-source).',
      env: 'IAM_INSTALL_URL_TEMPLATE',
    }),
    sha256: Flags.string({description: 'Expected SHA-256 of the release archive (one server only).', exclusive: ['from-source', 'checksums']}),
    checksums: Flags.string({description: 'A checksums.txt ("<sha256>  <archive file name>" lines) to verify release archives against, instead of the release\'s own.', exclusive: ['from-source']}),
  }

  async run(): Promise<{servers: InstallResult[]}> {
    const {installServers} = await import('../install/index.js')
    const servers: OryServer[] = this.args.server === 'all' ? [...ORY_SERVERS] : [this.args.server as OryServer]
    const results = await installServers(servers, {
      fromSource: this.flags['from-source'],
      sourceArchives: this.flags['from-source'] ? this.flags['source-archives'] : undefined,
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
