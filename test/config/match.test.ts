import {describe, expect, it} from 'vitest'

import {exampleUrl, overlapWitness, parseRouteMatch, toOathkeeperRegexp} from '../../src/config/match.js'

const overlap = (a: string, b: string): string | undefined => overlapWitness(parseRouteMatch(a), parseRouteMatch(b), [a, b])

describe('route matches', () => {
  it('lists parameters in order', () => {
    expect(parseRouteMatch('http://127.0.0.1:4455/orgs/{org}/projects/{project}/<**>').params).toEqual(['org', 'project'])
  })

  it('converts to Oathkeeper regexp strategy with one capture group per <…> part', () => {
    expect(toOathkeeperRegexp('http://127.0.0.1:4455/tenants/{tenant}/<**>')).toEqual({
      url: 'http://127.0.0.1:4455/tenants/<[^/]+>/<.*>',
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
    expect(exampleUrl('http://127.0.0.1:4455/tenants/{tenant}/<**>', () => 'acme')).toBe('http://127.0.0.1:4455/tenants/acme/')
  })
})
