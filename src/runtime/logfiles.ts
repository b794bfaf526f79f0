/** Log files of the native runtime: tail for error messages and `iam logs`, and follow by polling. */
import {open, stat} from 'node:fs/promises'

/** Last `lines` lines of a file (reads at most the last 256 KiB). Missing file → []. */
export async function tailFile(path: string, lines: number): Promise<string[]> {
  if (lines <= 0) return []
  let handle
  try {
    handle = await open(path, 'r')
  } catch {
    return []
  }
  try {
    const {size} = await handle.stat()
    const length = Math.min(size, 256 * 1024)
    const buffer = Buffer.alloc(length)
    await handle.read(buffer, 0, length, size - length)
    const all = buffer.toString('utf8').split('\n')
    if (all.at(-1) === '') all.pop()
    return all.slice(-lines)
  } finally {
    await handle.close()
  }
}

export async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size
  } catch {
    return 0
  }
}

/**
 * Writes what is appended to each file to `out` (line-prefixed when a prefix is given) until `signal` aborts.
 * Polling rather than fs.watch: works the same on every filesystem and survives the file being recreated.
 */
export async function followFiles(
  files: {path: string; prefix: string}[],
  out: NodeJS.WritableStream,
  signal: AbortSignal,
  intervalMs = 200,
): Promise<void> {
  const offsets = new Map<string, number>()
  const partial = new Map<string, string>()
  for (const f of files) offsets.set(f.path, await fileSize(f.path))
  while (!signal.aborted) {
    for (const f of files) {
      const size = await fileSize(f.path)
      let from = offsets.get(f.path) ?? 0
      if (size < from) from = 0 // truncated or recreated
      if (size === from) continue
      const handle = await open(f.path, 'r')
      try {
        const buffer = Buffer.alloc(size - from)
        await handle.read(buffer, 0, buffer.length, from)
        offsets.set(f.path, size)
        const text = (partial.get(f.path) ?? '') + buffer.toString('utf8')
        const parts = text.split('\n')
        partial.set(f.path, parts.pop() ?? '')
        for (const line of parts) out.write(`${f.prefix}${line}\n`)
      } finally {
        await handle.close()
      }
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, intervalMs)
      signal.addEventListener('abort', () => {
        clearTimeout(t)
        resolve()
      }, {once: true})
    })
  }
}
