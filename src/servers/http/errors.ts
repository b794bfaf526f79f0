/**
 * An error a handler throws to answer with a specific status and a JSON body
 * `{"error": {"code", "message", "field"?, "details"?}}`. Anything else a handler throws becomes a 500.
 */
export class HttpError extends Error {
  readonly status: number
  readonly code: string
  readonly field?: string
  readonly details?: Record<string, unknown>
  /** Extra response headers, e.g. `Allow` on a 405. */
  readonly headers?: Record<string, string>

  constructor(
    status: number,
    code: string,
    message: string,
    o: {field?: string; details?: Record<string, unknown>; headers?: Record<string, string>; cause?: unknown} = {},
  ) {
    super(message, o.cause === undefined ? undefined : {cause: o.cause})
    this.name = 'HttpError'
    this.status = status
    this.code = code
    this.field = o.field
    this.details = o.details
    this.headers = o.headers
  }

  toBody(): {error: {code: string; message: string; field?: string; details?: Record<string, unknown>}} {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.field === undefined ? {} : {field: this.field}),
        ...(this.details === undefined ? {} : {details: this.details}),
      },
    }
  }
}

/** 400 naming the offending field (a JSON path such as `tuples[2].subject_set.namespace`). */
export function badRequest(message: string, field?: string): HttpError {
  return new HttpError(400, 'INVALID_REQUEST', message, {field})
}
