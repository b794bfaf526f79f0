/**
 * Keto: keto.yml and the Ory Permission Language namespaces. Keto (v26.2.0, as v0.14.0 before it) reads OPL from
 * `namespaces: {location: file://…}` (verified against the real server); the DSN comes from env `DSN`.
 */
import type {IamConfig} from '../config/model.js'
import {SERVER_RELATIVE} from '../project/layout.js'
import {generatedHeader, renderError, yamlDocument} from './common.js'

export function renderKetoConfig(config: IamConfig): string {
  const {ports} = config
  return yamlDocument({
    serve: {
      read: {host: '127.0.0.1', port: ports.ketoRead},
      write: {host: '127.0.0.1', port: ports.ketoWrite},
      opl: {host: '127.0.0.1', port: ports.ketoOpl},
      metrics: {host: '127.0.0.1', port: ports.ketoMetrics},
    },
    namespaces: {location: SERVER_RELATIVE.ketoNamespaces},
    limit: {max_batch_check_size: config.keto.maxBatchCheckSize},
  })
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/

/** OPL type of one subject kind: `User` → `User`, `Role#member` → `SubjectSet<Role, "member">`. */
function subjectType(subject: string, namespace: string): string {
  const [ns, relation, ...rest] = subject.split('#')
  if (!ns || !IDENTIFIER.test(ns) || rest.length > 0 || (relation !== undefined && !IDENTIFIER.test(relation))) {
    throw renderError(`Subject type "${subject}" of namespace ${namespace} is not a namespace or Namespace#relation.`, {namespace, subject})
  }
  return relation === undefined ? ns : `SubjectSet<${ns}, ${JSON.stringify(relation)}>`
}

/**
 * namespaces.keto.ts: one class per namespace; each relation lists the subject types iam.yaml declares for it
 * (`subjects`, default `User`). `User` is always declared.
 */
export function renderKetoNamespaces(config: IamConfig): string {
  const namespaces = [...config.keto.namespaces]
  if (!namespaces.some((n) => n.name === 'User')) namespaces.unshift({name: 'User', relations: []})
  let out = generatedHeader('//') + "import { Namespace, SubjectSet, Context } from '@ory/keto-namespace-types'\n"
  for (const ns of namespaces) {
    if (!IDENTIFIER.test(ns.name)) throw renderError(`Keto namespace "${ns.name}" is not a valid OPL class name.`, {namespace: ns.name})
    out += '\n'
    if (ns.relations.length === 0) {
      out += `class ${ns.name} implements Namespace {}\n`
      continue
    }
    out += `class ${ns.name} implements Namespace {\n  related: {\n`
    for (const relation of ns.relations) {
      if (!IDENTIFIER.test(relation)) {
        throw renderError(`Relation "${relation}" of namespace ${ns.name} is not a valid OPL identifier.`, {namespace: ns.name, relation})
      }
      const types = (ns.subjects?.[relation] ?? ['User']).map((subject) => subjectType(subject, ns.name))
      const type = types.length === 1 ? types[0]! : `(${types.join(' | ')})`
      out += `    ${relation}: ${type}[]\n`
    }
    out += '  }\n}\n'
  }
  return out
}
