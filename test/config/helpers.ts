import {expect} from 'vitest'

import {parseConfig} from '../../src/config/load.js'
import type {ConfigIssue} from '../../src/config/issues.js'
import {IamError} from '../../src/errors.js'

export const MINIMAL = 'version: 1\nproject: demo\n'

/** The issues parseConfig reports for `source` (fails the test when it parses). */
export function issuesOf(source: string): ConfigIssue[] {
  let caught: unknown
  try {
    parseConfig(source)
  } catch (error) {
    caught = error
  }
  expect(caught).toBeInstanceOf(IamError)
  const error = caught as IamError
  expect(error.code).toBe('CONFIG_INVALID')
  expect(error.exitCode).toBe(2)
  return (error.details as {errors: ConfigIssue[]}).errors
}

/** The single issue for `source`. */
export function issueOf(source: string): ConfigIssue {
  const issues = issuesOf(source)
  expect(issues, JSON.stringify(issues, null, 2)).toHaveLength(1)
  return issues[0]!
}

/** A minimal config plus these routes (YAML text, indented as list items under `routes:`). */
export function withRoutes(routes: string): string {
  return `${MINIMAL}routes:\n${routes}`
}
