/** The Ory servers iam runs, the one version it pins for every runtime, and how each is built. One source of truth. */

export const ORY_SERVERS = ['oathkeeper', 'keto', 'kratos', 'hydra'] as const
export type OryServer = (typeof ORY_SERVERS)[number]

/**
 * The one Ory version line: the native runtime builds these servers from the tags' source archives, compose runs
 * the `oryd/*` images of the same tag, and the tests run what the native runtime runs.
 */
export const ORY_VERSION = 'v26.2.0'

export interface OryServerSpec {
  name: OryServer
  /** The version every runtime uses (the tag; `<binary> version` reports it). */
  version: string
  /** GitHub `owner/name` of the server's repository (source archives and release assets live there). */
  repository: string
  /** Go build tags (SQLite needs cgo and `sqlite`). */
  buildTags: string[]
  cgo: boolean
  /** Extra C preprocessor flags for cgo, as Ory's own Dockerfiles set them. */
  cgoCppFlags?: string
  /** Go package whose `Version` variable the binary reports in `<server> version`; set with -ldflags -X. */
  buildInfoPackage: string
  /**
   * SHA-256 over the extracted source tree of the tag (every file's path, mode and content; see
   * src/install/tree-hash.ts), so the tag's archive from GitHub and a local copy verify alike whatever their bytes.
   */
  sourceTreeSha256: string
}

export const ORY_SPECS: Record<OryServer, OryServerSpec> = {
  oathkeeper: {
    name: 'oathkeeper',
    version: ORY_VERSION,
    repository: 'ory/oathkeeper',
    buildTags: [],
    cgo: false,
    buildInfoPackage: 'github.com/ory/oathkeeper/x',
    sourceTreeSha256: 'f75bc58816d3887128984414b296cad8ee4abc0101f9d6d3afeeee36ba37a817',
  },
  keto: {
    name: 'keto',
    version: ORY_VERSION,
    repository: 'ory/keto',
    buildTags: ['sqlite'],
    cgo: true,
    // Keto's SQLite file holds every relation tuple: 0600 like Kratos' (Keto's Dockerfile does not set it).
    cgoCppFlags: '-DSQLITE_DEFAULT_FILE_PERMISSIONS=0600',
    buildInfoPackage: 'github.com/ory/keto/internal/driver/config',
    sourceTreeSha256: '76612b3b92a6f464c55dc06e3d7e0f3fba5613040d57d410838c6764424c3309',
  },
  kratos: {
    name: 'kratos',
    version: ORY_VERSION,
    repository: 'ory/kratos',
    buildTags: ['sqlite', 'json1'],
    cgo: true,
    // From Ory's Dockerfile: the SQLite files Kratos creates hold live sessions, so 0600 instead of 0644.
    cgoCppFlags: '-DSQLITE_DEFAULT_FILE_PERMISSIONS=0600',
    buildInfoPackage: 'github.com/ory/kratos/driver/config',
    sourceTreeSha256: '46a60a2120c97b4b204e5fca494c6063557cdfbe15d2015e4c3ab7bd02545abd',
  },
  hydra: {
    name: 'hydra',
    version: ORY_VERSION,
    repository: 'ory/hydra',
    // Ory's own build: SQLite without loadable extensions. Hydra's SQLite file holds client secrets' hashes and tokens.
    buildTags: ['sqlite', 'sqlite_omit_load_extension'],
    cgo: true,
    cgoCppFlags: '-DSQLITE_DEFAULT_FILE_PERMISSIONS=0600',
    buildInfoPackage: 'github.com/ory/hydra/v2/driver/config',
    sourceTreeSha256: 'e4a44ab34d2800f036b8acdf1c8630e8fa8732204673d25411af58d6c7a120a7',
  },
}
