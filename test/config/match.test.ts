import {describe, expect, it} from 'vitest'

import {exampleUrl, exampleUrlBelow, overlapWitness, parseRouteMatch, toOathkeeperRegexp, uncleanPathProblem} from '../../src/config/match.js'

const overlap = (a: string, b: string): string | undefined => overlapWitness(parseRouteMatch(a), parseRouteMatch(b), [a, b])

describe('route matches', () => {
  it('lists parameters in order', () => {
    expect(parseRouteMatch('http://127.0.0.1:4455/orgs/{org}/projects/{project}/<**>').params).toEqual(['org', 'project'])
  })

  it('converts to Oathkeeper regexp strategy with one capture group per <…> part', () => {
    expect(toOathkeeperRegexp('http://127.0.0.1:4455/tenants/{tenant}/<**>')).toEqual({
      url: 'http://127.0.0.1:4455/tenants/<[^/]+><(?:/(?:.*))?>',
      groups: ['tenant', null],
      params: {tenant: 0},
    })
    expect(toOathkeeperRegexp('<{http,https}>://h/<*>.<[!a-c]>/<?>/{id}').url).toBe('<(?:http|https)>://h/<[^./]*>.<[^a-c]>/<[^./]>/<[^/]+>')
  })

  it('finds a URL two overlapping matches share, and none for disjoint ones', () => {
    expect(overlap('http://h/a/<**>', 'http://h/a/b')).toBe('http://h/a/b')
    expect(overlap('http://h/t/{id}', 'http://h/t/<*>')).toBe('http://h/t/x')
    expect(overlap('<{http,https}>://h/a', 'https://h/a')).toBe('https://h/a')
    expect(overlap('http://h/t/{id}', 'http://h/t/{id}/x')).toBeUndefined()
    expect(overlap('http://h/<[a-c]>', 'http://h/<[d-f]>')).toBeUndefined()
    expect(overlap('http://h/<[!a]>', 'http://h/a')).toBeUndefined()
    expect(overlap('http://h/<*>', 'http://h/a/b')).toBeUndefined()
  })

  it('gives an example URL each match accepts (checked against the regexp Oathkeeper gets), params as asked', () => {
    for (const match of ['http://127.0.0.1:4455/tenants/{tenant}/<**>', 'http://h/<{a,b}>/x/<[0-9]>/<*>.json', '<{http,https}>://h/<?>/{id}', 'http://h/exact']) {
      const url = exampleUrl(match, (name) => `v-${name}`)
      expect(url, match).toBeDefined()
      const {url: pattern} = toOathkeeperRegexp(match)
      const regex = new RegExp(`^${pattern.replaceAll(/<([^>]*)>|([.*+?^${}()|[\]\\])/g, (_m, group: string | undefined, ch: string | undefined) => (group !== undefined ? `(${group})` : `\\${ch}`))}$`)
      expect(url).toMatch(regex)
    }
    expect(exampleUrl('http://127.0.0.1:4455/tenants/{tenant}/<**>', () => 'acme')).toBe('http://127.0.0.1:4455/tenants/acme')
    expect(exampleUrlBelow('http://127.0.0.1:4455/tenants/{tenant}/<**>', () => 'acme')).toBe('http://127.0.0.1:4455/tenants/acme/smoke')
    expect(exampleUrlBelow('http://h/exact', () => 'x')).toBeUndefined()
  })
})

/** The regexp Oathkeeper compiles for a converted match (each `<…>` a group, the rest literal), anchored. */
function oathkeeperRegex(match: string): RegExp {
  const {url} = toOathkeeperRegexp(match)
  return new RegExp(`^${url.replaceAll(/<([^>]*)>|([.*+?^${}()|[\]\\])/g, (_m, group: string | undefined, ch: string | undefined) => (group !== undefined ? `(${group})` : `\\${ch}`))}$`)
}

describe('matches under path cleaning (Oathkeeper v26 matches path.Clean of the request path)', () => {
  const base = 'http://127.0.0.1:4455'
  it.each([
    // match, cleaned path, matches?
    ['/public/<**>', '/public', true],
    ['/public/<**>', '/public/x', true],
    ['/public/<**>', '/public/x/y.json', true],
    ['/public/<**>', '/publicx', false],
    ['/public/<**>', '/publi', false],
    ['/public/<**>', '/', false],
    ['/tenants/{tenant}/<**>', '/tenants/acme', true],
    ['/tenants/{tenant}/<**>', '/tenants/acme/x', true],
    ['/tenants/{tenant}/<**>', '/tenants', false],
    ['/tenants/{tenant}/<*>', '/tenants/acme', true],
    ['/tenants/{tenant}/<*>', '/tenants/acme/x', true],
    ['/tenants/{tenant}/<*>', '/tenants/acme/x/y', false],
    ['/files/<?>', '/files', false],
    ['/files/<?>', '/files/a', true],
    ['/<**>', '/', true],
    ['/<**>', '/anything/below', true],
    ['/health', '/health', true],
  ] as const)('%s on %s → %s', (match, path, expected) => {
    expect(oathkeeperRegex(`${base}${match}`).test(`${base}${path}`)).toBe(expected)
  })

  it('the root of a route with an optional tail overlaps an exact match of that root', () => {
    expect(overlap(`${base}/public/<**>`, `${base}/public`)).toBe(`${base}/public`)
    expect(overlap(`${base}/public/<**>`, `${base}/publicity`)).toBeUndefined()
  })

  it.each([
    ['/admin/', 'the path ends in "/"'],
    ['/a//b', 'the path holds "//"'],
    ['/a/../b/<**>', 'the path holds a "." or ".." segment'],
    ['/a/./b', 'the path holds a "." or ".." segment'],
    ['/a/..', 'the path holds a "." or ".." segment'],
  ])('%s can never match a cleaned path: %s', (path, problem) => {
    expect(uncleanPathProblem(parseRouteMatch(`${base}${path}`))).toBe(problem)
  })

  it.each(['/', '/public/<**>', '/a/{id}', '/a.b/..c', '/<**>'])('%s is a path a cleaned request can match', (path) => {
    expect(uncleanPathProblem(parseRouteMatch(`${base}${path}`))).toBeUndefined()
  })
})
