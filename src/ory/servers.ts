/** The Ory servers iam runs, the versions it pins, and how each is built and started. One source of truth. */

export const ORY_SERVERS = ['oathkeeper', 'keto', 'kratos'] as const
export type OryServer = (typeof ORY_SERVERS)[number]

/** The image tag rendered into compose files (the newest calendar release; not buildable from the module proxy). */
export const ORY_IMAGE_VERSION = 'v26.2.0'

export interface OryServerSpec {
  name: OryServer
  /** Version the native runtime and tests use: the newest release that builds from the Go module proxy. */
  version: string
  module: string
  /** Go build tags (SQLite needs cgo and `sqlite`). */
  buildTags: string[]
  cgo: boolean
  /** Local `replace` directives whose targets are nested modules missing from the module zip: dropped so the
   * published module of the required version is used instead. */
  dropReplaces: string[]
  /** Go package whose `Version` variable the binary reports in `<server> version`; set with -ldflags -X. */
  buildInfoPackage: string
}

export const ORY_SPECS: Record<OryServer, OryServerSpec> = {
  oathkeeper: {
    name: 'oathkeeper',
    version: 'v0.40.9',
    module: 'github.com/ory/oathkeeper',
    buildTags: [],
    cgo: false,
    dropReplaces: [],
    buildInfoPackage: 'github.com/ory/oathkeeper/x',
  },
  keto: {
    name: 'keto',
    version: 'v0.14.0',
    module: 'github.com/ory/keto',
    buildTags: ['sqlite'],
    cgo: true,
    // `replace github.com/ory/keto/proto => ./proto` stays: the installer fills ./proto with a stand-in
    // (src/install/recipe.ts), because the proxy's published proto module lacks types Keto v0.14.0 compiles against.
    dropReplaces: [],
    buildInfoPackage: 'github.com/ory/keto/internal/driver/config',
  },
  kratos: {
    name: 'kratos',
    version: 'v1.3.1',
    module: 'github.com/ory/kratos',
    buildTags: ['sqlite', 'json1'],
    cgo: true,
    dropReplaces: ['github.com/ory/client-go'],
    buildInfoPackage: 'github.com/ory/kratos/driver/config',
  },
}

export function isOryServer(value: string): value is OryServer {
  return (ORY_SERVERS as readonly string[]).includes(value)
}
