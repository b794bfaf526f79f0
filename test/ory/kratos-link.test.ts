import {describe, expect, it} from 'vitest'

import {nextPageToken} from '../../src/ory/kratos-client.js'

describe('Kratos Link header pagination', () => {
  it('extracts page_token from the rel="next" entry', () => {
    const link =
      '</admin/identities?page_size=2&page_token=eyJvZmZzZXQiOiIyIn0>; rel="first",</admin/identities?page_size=2&page_token=abc%3D%3D>; rel="next"'
    expect(nextPageToken(link)).toBe('abc==')
  })

  it('returns undefined without a next entry or header', () => {
    expect(nextPageToken(undefined)).toBeUndefined()
    expect(nextPageToken('</admin/identities?page_token=x>; rel="first"')).toBeUndefined()
    expect(nextPageToken(['<bad url>; rel="prev"'])).toBeUndefined()
  })
})
