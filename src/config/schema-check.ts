import {Ajv, type ErrorObject, type ValidateFunction} from 'ajv'

import {DURATION_PATTERN} from './duration.js'
import {didYouMean, type ConfigPath, type RawIssue} from './issues.js'
import {iamConfigJsonSchema, IDENTIFIER_PATTERN, PROJECT_PATTERN, ROUTE_ID_PATTERN} from './schema.js'

/** What each pattern of the schema means, for messages a person can act on. */
const PATTERN_HELP: Record<string, {what: string; allowed: string}> = {
  [DURATION_PATTERN]: {what: 'is not a duration', allowed: 'a whole number with a unit: 500ms, 5s, 10m, 1h'},
  [PROJECT_PATTERN]: {what: 'is not a valid project name', allowed: 'lowercase letters, digits, "-" and "_", starting with a letter or digit'},
  [IDENTIFIER_PATTERN]: {what: 'is not a valid name', allowed: 'letters, digits and "_", not starting with a digit'},
  [ROUTE_ID_PATTERN]: {what: 'is not a valid route id', allowed: 'letters, digits, ".", "-" and "_", starting with a letter or digit'},
  '^/': {what: 'is not a path', allowed: 'a path starting with "/"'},
}

let validator: ValidateFunction | undefined

function compiled(): ValidateFunction {
  validator ??= new Ajv({allErrors: true, verbose: true, strict: false}).compile(iamConfigJsonSchema)
  return validator
}

function pointerToPath(pointer: string): ConfigPath {
  if (pointer === '') return []
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s))
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nothing'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a mapping'
  return `${typeof value} ${JSON.stringify(value)}`
}

const TYPE_NAMES: Record<string, string> = {object: 'a mapping', array: 'a list', string: 'a string', integer: 'an integer', boolean: 'true or false', number: 'a number'}

/** Structural problems (unknown keys, types, enums, ranges, formats) as located-later issues; [] when valid. */
export function schemaIssues(data: unknown): RawIssue[] {
  const validate = compiled()
  if (validate(data)) return []
  const issues: RawIssue[] = []
  for (const error of oneOfBranchErrors(validate.errors ?? [])) {
    const issue = toIssue(error)
    if (issue && !issues.some((i) => sameIssue(i, issue))) issues.push(issue)
  }
  return issues
}

/** The JSON type a value has, as the schema names it. */
function jsonType(value: unknown): string {
  if (Array.isArray(value)) return 'array'
  if (value === null) return 'null'
  return typeof value === 'number' ? (Number.isInteger(value) ? 'integer' : 'number') : typeof value
}

/** The JSON types a branch of a oneOf accepts (its `type`, or the types of its `enum` / `const` values). */
function branchTypes(branch: Record<string, unknown>): string[] {
  if (typeof branch.type === 'string') return [branch.type]
  if (Array.isArray(branch.enum)) return branch.enum.map(jsonType)
  if ('const' in branch) return [jsonType(branch.const)]
  return []
}

/**
 * A value that fails a oneOf (e.g. `database: sqlite | postgres | {engine, urls}`) fails every branch; only the
 * branch of the value's own type says something useful (a string: the allowed words; a mapping: its missing keys).
 * The others' errors and the bare "must match exactly one schema" are dropped — unless no branch has that type.
 */
function oneOfBranchErrors(errors: ErrorObject[]): ErrorObject[] {
  const dropped = new Set<string>()
  const kept = errors.filter((error) => {
    if (error.keyword !== 'oneOf' || !Array.isArray(error.schema)) return true
    const branches = error.schema as Record<string, unknown>[]
    const own = branches.findIndex((b) => branchTypes(b).includes(jsonType(error.data)))
    branches.forEach((_b, i) => {
      if (i !== own) dropped.add(`${error.schemaPath}/${i}/`)
    })
    // No branch of this type: the oneOf itself says what is allowed.
    return own === -1
  })
  return kept.filter((e) => ![...dropped].some((prefix) => `${e.schemaPath}/`.startsWith(prefix)))
}

function sameIssue(a: RawIssue, b: RawIssue): boolean {
  return a.message === b.message && JSON.stringify(a.path) === JSON.stringify(b.path)
}

function toIssue(error: ErrorObject): RawIssue | undefined {
  const path = pointerToPath(error.instancePath)
  const data: unknown = error.data
  const parent = (error.parentSchema ?? {}) as Record<string, unknown>
  const params = error.params as Record<string, unknown>
  // Errors about an object's property names (propertyNames) point at the key.
  const propertyName = (error as ErrorObject & {propertyName?: string}).propertyName
  if (error.keyword === 'propertyNames') return undefined
  if (propertyName !== undefined) {
    const help = PATTERN_HELP[String(params.pattern)]
    return {path: [...path, propertyName], at: 'key', message: `"${propertyName}" ${help?.what ?? 'is not a valid key'}`, ...(help ? {allowed: [help.allowed]} : {})}
  }
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty)
      const known = Object.keys((parent.properties as Record<string, unknown> | undefined) ?? {})
      return {path: [...path, key], at: 'key', message: `unknown key "${key}"${didYouMean(key, known)}`, allowed: known}
    }
    case 'required':
      return {path, message: `missing required key "${String(params.missingProperty)}"`}
    case 'type': {
      const expected = String(params.type)
      return {path, message: `expected ${TYPE_NAMES[expected] ?? expected}, got ${describe(data)}`}
    }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map(String)
      return {path, message: `${JSON.stringify(data)} is not allowed${typeof data === 'string' ? didYouMean(data, allowed) : ''}`, allowed}
    }
    case 'const':
      return {path, message: `${JSON.stringify(data)} is not supported`, allowed: [JSON.stringify(params.allowedValue)]}
    case 'minimum':
    case 'maximum': {
      const range = `${String(parent.minimum)}–${String(parent.maximum)}`
      return {path, message: `${String(data)} is out of range`, allowed: [parent.maximum === undefined ? `>= ${String(parent.minimum)}` : range]}
    }
    case 'pattern': {
      const help = PATTERN_HELP[String(params.pattern)]
      return {path, message: `${JSON.stringify(data)} ${help?.what ?? `does not match ${String(params.pattern)}`}`, ...(help ? {allowed: [help.allowed]} : {})}
    }
    case 'oneOf': {
      const branches = Array.isArray(error.schema) ? (error.schema as Record<string, unknown>[]) : []
      const allowed = branches.flatMap((b) => (Array.isArray(b.enum) ? b.enum.map(String) : [TYPE_NAMES[String(b.type)] ?? String(b.type)]))
      return {path, message: `expected ${allowed.join(' or ')}, got ${describe(data)}`, allowed}
    }
    case 'minLength':
      return {path, message: 'must not be empty'}
    case 'minItems':
      return {path, message: `must list at least ${String(params.limit)} item${params.limit === 1 ? '' : 's'}`}
    case 'uniqueItems': {
      const list = Array.isArray(data) ? data : []
      return {path: [...path, Number(params.i)], message: `${JSON.stringify(list[Number(params.i)])} is listed twice`}
    }
    default:
      return {path, message: error.message ?? `fails ${error.keyword}`}
  }
}
