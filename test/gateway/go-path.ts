/**
 * Go's view of a request path, as Oathkeeper sees it, written down so the path-matrix test can say which rule a
 * request *should* reach: `url.ParseRequestURI` unescapes the path (`%2F` becomes `/`), `path.Clean` resolves `.`,
 * `..` and `//` and drops a trailing slash, and rules match the result.
 */

/** Go's `url.PathUnescape` of the part before `?`: every `%XX` becomes its byte; undefined when an escape is invalid. */
export function goUnescapePath(raw: string): string | undefined {
  if (/%(?![0-9A-Fa-f]{2})/.test(raw)) return undefined
  const bytes: number[] = []
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === '%') {
      bytes.push(Number.parseInt(raw.slice(i + 1, i + 3), 16))
      i += 2
    } else bytes.push(...Buffer.from(raw[i]!, 'utf8'))
  }
  return Buffer.from(bytes).toString('latin1')
}

/** Go's `path.Clean` for a rooted path. */
export function goCleanPath(p: string): string {
  const out: string[] = []
  for (const segment of p.split('/')) {
    if (segment === '' || segment === '.') continue
    if (segment === '..') out.pop()
    else out.push(segment)
  }
  return `/${out.join('/')}`
}

/** The path a rule is matched against for a request line's target, or undefined when Go refuses the target. */
export function gatewayPath(target: string): string | undefined {
  const pathPart = target.split('?')[0]!
  const unescaped = goUnescapePath(pathPart)
  return unescaped === undefined ? undefined : goCleanPath(unescaped)
}

/**
 * Whether Oathkeeper forwards (and `.MatchContext.URL.EscapedPath` shows) the path with an encoded slash: Go keeps
 * the client's encoding when it still decodes to the cleaned path, and encodes the cleaned path afresh otherwise.
 */
export function forwardsEncodedSlash(target: string): boolean {
  const raw = target.split('?')[0]!
  return goUnescapePath(raw) === gatewayPath(target) && /%2f/i.test(raw)
}
