/**
 * Validates a config against the official config schema of a server version. The schemas are vendored under
 * test/fixtures/ory-schemas/<server>/<version>/ (copied from the servers' releases, Apache-2.0) so a fresh clone tests
 * the same thing everywhere; $IAM_ORY_SCHEMAS points at another copy with the same layout. The schemas $ref two remote Ory schemas (`ory://logging-config`, `ory://tracing-config`) that are
 * not published beside them; they describe the `log` and `tracing` keys, which iam never renders, so they are mapped
 * to the permissive schema `{}` (registered under their ids) instead of being fetched; so are Hydra's listener schemas.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {Ajv, type ErrorObject} from 'ajv'
import addFormatsModule from 'ajv-formats'

import type {OryServer} from '../../src/ory/servers.js'

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv

export const ORY_SCHEMAS_DIR = process.env.IAM_ORY_SCHEMAS ?? fileURLToPath(new URL('../fixtures/ory-schemas/', import.meta.url))

export function oryConfigErrors(server: OryServer, version: string, config: unknown): ErrorObject[] {
  const schema = JSON.parse(readFileSync(join(ORY_SCHEMAS_DIR, server, version, 'config.schema.json'), 'utf8')) as Record<string, unknown>
  const ajv = new Ajv({strict: false, allErrors: true, logger: false})
  addFormats(ajv)
  ajv.addSchema({$id: 'ory://logging-config'})
  ajv.addSchema({$id: 'ory://tracing-config'})
  // Hydra's listeners (`serve.public`, `serve.admin`) $ref these three, also unpublished; the real Hydra starting on
  // iam's hydra.yml (test/clients/machine.test.ts) is what checks them.
  for (const id of ['ory://serve-config', 'ory://cors-config', 'ory://tls-config']) ajv.addSchema({$id: id})
  // Hydra's `tracing` key $refs the otelx schema by URL (as the others' ory://tracing-config): iam renders no tracing.
  ajv.addSchema({$id: 'https://raw.githubusercontent.com/ory/hydra/011a01ce/oryx/otelx/config.schema.json'})
  const validate = ajv.compile(schema)
  return validate(config) ? [] : (validate.errors ?? [])
}
