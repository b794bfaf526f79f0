import type {Dispatcher} from 'undici'

import {ExitCode, IamError} from '../errors.js'
import {OryHttp, type QueryValue} from './request.js'
import {formatTuple, tuplesEqual, type RelationTuple, type TupleQuery} from './tuple-text.js'

/** Keto's defaults when iam.yaml does not say otherwise. */
export const KETO_DEFAULT_READ_URL = 'http://127.0.0.1:4466'
export const KETO_DEFAULT_WRITE_URL = 'http://127.0.0.1:4467'

// ---------------------------------------------------------------------------------------------------------------
// Wire format
// ---------------------------------------------------------------------------------------------------------------

interface WireTuple {
  namespace: string
  object: string
  relation: string
  subject_id?: string
  subject_set?: {namespace: string; object: string; relation: string}
}

function toWire(t: RelationTuple): WireTuple {
  return {
    namespace: t.namespace,
    object: t.object,
    relation: t.relation,
    ...(t.subjectSet ? {subject_set: {...t.subjectSet}} : {subject_id: t.subjectId ?? ''}),
  }
}

function fromWire(w: WireTuple): RelationTuple {
  return {
    namespace: w.namespace,
    object: w.object,
    relation: w.relation,
    ...(w.subject_set ? {subjectSet: {namespace: w.subject_set.namespace, object: w.subject_set.object, relation: w.subject_set.relation ?? ''}} : {subjectId: w.subject_id ?? ''}),
  }
}

function queryParams(q: TupleQuery): Record<string, QueryValue> {
  return {
    namespace: q.namespace,
    object: q.object,
    relation: q.relation,
    subject_id: q.subjectId,
    'subject_set.namespace': q.subjectSet?.namespace,
    'subject_set.object': q.subjectSet?.object,
    'subject_set.relation': q.subjectSet?.relation,
  }
}

export interface KetoClientOptions {
  readUrl?: string
  writeUrl?: string
  timeoutMs?: number
  /** Shared keep-alive pools (e.g. from src/servers/http); one per origin. */
  readDispatcher?: Dispatcher
  writeDispatcher?: Dispatcher
}

export interface TuplePage {
  tuples: RelationTuple[]
  /** Empty string on the last page (Keto's convention). */
  nextPageToken: string
}

/** Typed client over Keto's read (list, check) and write (create, delete) REST APIs. */
export class KetoClient {
  private readonly read: OryHttp
  private readonly writeApi?: OryHttp

  constructor(options: KetoClientOptions) {
    this.read = new OryHttp({api: 'keto-read', baseUrl: options.readUrl ?? KETO_DEFAULT_READ_URL, timeoutMs: options.timeoutMs, dispatcher: options.readDispatcher})
    if (options.writeUrl !== undefined || options.writeDispatcher !== undefined) {
      this.writeApi = new OryHttp({api: 'keto-write', baseUrl: options.writeUrl ?? KETO_DEFAULT_WRITE_URL, timeoutMs: options.timeoutMs, dispatcher: options.writeDispatcher})
    }
  }

  private get write(): OryHttp {
    if (!this.writeApi) throw new IamError('KETO_WRITE_URL_MISSING', 'This operation needs the Keto write API URL.', {exitCode: ExitCode.Usage, suggestion: 'Pass --keto-write-url.'})
    return this.writeApi
  }

  /** One page of tuples matching the query. */
  async listPage(query: TupleQuery, o: {pageSize?: number; pageToken?: string} = {}): Promise<TuplePage> {
    const res = await this.read.call('GET', '/relation-tuples', {
      query: {...queryParams(query), page_size: o.pageSize, page_token: o.pageToken || undefined},
    })
    if (res.status !== 200) throw this.read.httpError(res, 'listing relation tuples')
    const body = res.body as {relation_tuples?: WireTuple[] | null; next_page_token?: string} | undefined
    return {tuples: (body?.relation_tuples ?? []).map(fromWire), nextPageToken: body?.next_page_token ?? ''}
  }

  /** Every tuple matching the query, following next_page_token to the last page. */
  async listAll(query: TupleQuery, o: {pageSize?: number} = {}): Promise<RelationTuple[]> {
    const all: RelationTuple[] = []
    const seen = new Set<string>()
    let token: string | undefined
    for (;;) {
      const page = await this.listPage(query, {pageSize: o.pageSize, pageToken: token})
      all.push(...page.tuples)
      if (!page.nextPageToken) return all
      // A server handing out the same token twice would loop forever; stop loudly instead.
      if (seen.has(page.nextPageToken)) throw new IamError('KETO_PAGINATION_LOOP', 'Keto returned the same page token twice.', {exitCode: ExitCode.Environment})
      seen.add(page.nextPageToken)
      token = page.nextPageToken
    }
  }

  /** True when this exact tuple is stored (not a permission check: no rewrites, no subject-set expansion). */
  async exists(tuple: RelationTuple): Promise<boolean> {
    const q: TupleQuery = {namespace: tuple.namespace, object: tuple.object, relation: tuple.relation}
    if (tuple.subjectSet) q.subjectSet = tuple.subjectSet
    else q.subjectId = tuple.subjectId
    const page = await this.listPage(q, {pageSize: 1})
    return page.tuples.some((t) => tuplesEqual(t, tuple))
  }

  /** Permission check (follows subject sets and rewrites). */
  async check(tuple: RelationTuple, o: {maxDepth?: number} = {}): Promise<boolean> {
    const res = await this.read.call('GET', '/relation-tuples/check/openapi', {query: {...queryParams(tuple), 'max-depth': o.maxDepth}})
    if (res.status !== 200) throw this.read.httpError(res, 'checking a permission')
    return Boolean((res.body as {allowed?: boolean} | undefined)?.allowed)
  }

  /**
   * Creates a tuple. Not idempotent: Keto v0.14 stores a second identical row on a repeated PUT (seen against the
   * real server), so idempotent callers check `exists()` first.
   */
  async create(tuple: RelationTuple): Promise<void> {
    const res = await this.write.call('PUT', '/admin/relation-tuples', {json: toWire(tuple)})
    if (res.status !== 201 && res.status !== 200) throw this.write.httpError(res, `creating ${formatTuple(tuple)}`)
  }

  /** Deletes exactly this tuple (every field given, so the delete cannot widen into a query). */
  async delete(tuple: RelationTuple): Promise<void> {
    const q = queryParams(tuple)
    if (!tuple.subjectSet) q.subject_id = tuple.subjectId ?? ''
    const res = await this.write.call('DELETE', '/admin/relation-tuples', {query: q})
    if (res.status !== 204 && res.status !== 200) throw this.write.httpError(res, `deleting ${formatTuple(tuple)}`)
  }

  /** GET /health/ready on the read API. */
  async ready(): Promise<boolean> {
    const res = await this.read.call('GET', '/health/ready')
    return res.status === 200
  }

  async close(): Promise<void> {
    await Promise.all([this.read.close(), this.writeApi?.close()])
  }
}
