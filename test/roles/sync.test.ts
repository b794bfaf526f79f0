import {describe, expect, it} from 'vitest'

import {IamError} from '../../src/errors.js'
import {currentRoles, normalizeRoles, rolesPatch, RoleSyncError, syncIdentityRoles, validateRoleName} from '../../src/roles/sync.js'

describe('rolesPatch', () => {
  it('adds the whole metadata_public object when it is null (a pointer cannot add into null)', () => {
    expect(rolesPatch({metadata_public: null}, ['b', 'a'])).toEqual([{op: 'add', path: '/metadata_public', value: {roles: ['a', 'b']}}])
  })

  it('touches only /metadata_public/roles when metadata_public exists', () => {
    expect(rolesPatch({metadata_public: {plan: 'pro'}}, ['admin'])).toEqual([{op: 'add', path: '/metadata_public/roles', value: ['admin']}])
    expect(rolesPatch({metadata_public: {roles: ['viewer'], plan: 'pro'}}, [])).toEqual([{op: 'add', path: '/metadata_public/roles', value: []}])
  })

  it('is undefined (no write) when the stored roles already match as a set', () => {
    expect(rolesPatch({metadata_public: {roles: ['a', 'b']}}, ['b', 'a', 'a'])).toBeUndefined()
    // An empty list is written once so the claim exists; afterwards it is unchanged.
    expect(rolesPatch({metadata_public: {}}, [])).toEqual([{op: 'add', path: '/metadata_public/roles', value: []}])
    expect(rolesPatch({metadata_public: {roles: []}}, [])).toBeUndefined()
  })

  it('replaces a malformed roles value', () => {
    expect(rolesPatch({metadata_public: {roles: 'admin'}}, ['admin'])).toEqual([{op: 'add', path: '/metadata_public/roles', value: ['admin']}])
    expect(currentRoles({metadata_public: {roles: [1]}})).toBeUndefined()
  })

  it('normalizes and validates role names', () => {
    expect(normalizeRoles(['b', 'a', 'b'])).toEqual(['a', 'b'])
    expect(() => validateRoleName('')).toThrow(IamError)
    expect(() => validateRoleName('a b')).toThrow(/whitespace/)
    expect(validateRoleName('admin')).toBe('admin')
  })
})

describe('syncIdentityRoles error attribution', () => {
  it('names the server that failed', async () => {
    const down = new IamError('ORY_UNREACHABLE', 'keto down', {exitCode: 3})
    const keto = {listAll: async () => Promise.reject(down)}
    const kratos = {getIdentity: async () => undefined, patchIdentity: async () => Promise.reject(new Error('unused'))}
    const error = await syncIdentityRoles({keto, kratos}, {identityId: 'x'}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RoleSyncError)
    expect(error).toMatchObject({stage: 'keto', code: 'ORY_UNREACHABLE', exitCode: 3})

    const ok = {listAll: async () => []}
    const missing = await syncIdentityRoles({keto: ok, kratos}, {identityId: 'x'}).catch((e: unknown) => e)
    expect(missing).toMatchObject({stage: 'kratos', code: 'IDENTITY_NOT_FOUND'})
  })
})
