/** `.iam/run/runtime.json`: which runtime `iam up` chose, so `down`, `status` and `logs` talk to the same one. */
import {readFile} from 'node:fs/promises'

import {writeFileAtomic} from '../util/atomic-write.js'
import type {RuntimePaths} from './paths.js'
import type {RuntimeKind} from './types.js'

export interface RuntimeMarker {
  kind: RuntimeKind
  project: string
  /** Compose only: which engine CLI ran it. */
  engine?: 'docker' | 'podman'
  startedAt?: string
}

export async function writeRuntimeMarker(paths: RuntimePaths, marker: RuntimeMarker): Promise<void> {
  await writeFileAtomic(paths.runtimeFile, JSON.stringify({...marker, startedAt: new Date().toISOString()}, null, 2) + '\n')
}

export async function readRuntimeMarker(paths: RuntimePaths): Promise<RuntimeMarker | undefined> {
  try {
    const parsed = JSON.parse(await readFile(paths.runtimeFile, 'utf8')) as RuntimeMarker
    return parsed.kind === 'native' || parsed.kind === 'compose' ? parsed : undefined
  } catch {
    return undefined
  }
}
