import {usageError} from '../errors.js'

/**
 * `${VAR}` references in iam.yaml. They are allowed only in fields that hold secrets or URLs (see ENV_REF_FIELDS in
 * validate.ts), stay verbatim in the loaded model, and are resolved by the consumer at the point of use, so a rendered
 * file or a `--json` output never contains a secret by accident.
 *
 * Syntax: `${NAME}` (required) and `${NAME:-default}` (default when unset or empty); `$${` writes a literal `${`.
 */

const NAME = '[A-Za-z_][A-Za-z0-9_]*'
const REF_RE = new RegExp(`\\$\\$\\{|\\$\\{(${NAME})(?::-([^}]*))?\\}`, 'g')

export interface EnvRef {
  name: string
  default?: string
  /** Offset of the `$` in the string. */
  index: number
}

/** Every reference in `value`, in order (escaped `$${` are skipped). */
export function findEnvRefs(value: string): EnvRef[] {
  const refs: EnvRef[] = []
  for (const m of value.matchAll(REF_RE)) {
    if (m[0] === '$${') continue
    refs.push({name: m[1]!, ...(m[2] === undefined ? {} : {default: m[2]}), index: m.index})
  }
  return refs
}

/** True when the string contains `${` that is not a well-formed reference (e.g. `${1X}` or a missing `}`). */
export function malformedEnvRef(value: string): string | undefined {
  const stripped = value.replace(REF_RE, '')
  const at = stripped.indexOf('${')
  if (at === -1) return undefined
  return stripped.slice(at, at + 20)
}

export function hasEnvRefs(value: string): boolean {
  return findEnvRefs(value).length > 0
}

/**
 * Substitutes references from `env`. A reference to an unset variable without a default throws IamError
 * CONFIG_ENV_MISSING (exit 2) naming the variable; nothing about the value is printed.
 */
export function resolveEnvRefs(value: string, env: NodeJS.ProcessEnv): string {
  return value.replace(REF_RE, (whole, name: string | undefined, fallback: string | undefined) => {
    if (whole === '$${') return '${'
    const set = env[name!]
    if (set !== undefined && set !== '') return set
    if (fallback !== undefined) return fallback
    if (set !== undefined) return set
    throw usageError('CONFIG_ENV_MISSING', `iam.yaml references \${${name}} but the environment variable ${name} is not set.`, {
      suggestion: `Export ${name} (or put it in .env), or give a default: \${${name}:-value}.`,
      details: {variable: name},
    })
  })
}

