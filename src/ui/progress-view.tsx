/** The terminal form of the progress (ink): one live line per service. Loaded lazily by src/ui/progress.ts. */
import {Box, Text, render} from 'ink'
import {useEffect, useState} from 'react'

import type {RuntimeEvent, ServiceStateName} from '../runtime/types.js'
import {applyEvent, formatSeconds, type Progress, type ServiceLine} from './progress.js'

const COLORS: Partial<Record<ServiceStateName, string>> = {
  ready: 'green',
  running: 'green',
  migrating: 'yellow',
  starting: 'yellow',
  unhealthy: 'red',
  crashed: 'red',
  stopped: 'gray',
  pending: 'gray',
}
const DONE: ServiceStateName[] = ['ready', 'running', 'stopped', 'crashed', 'unhealthy']
const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']

function ProgressView({lines, startedAt}: {lines: ServiceLine[]; startedAt: number}): JSX.Element {
  const [now, setNow] = useState(Date.now())
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 100)
    return () => clearInterval(timer)
  }, [])
  const width = Math.max(12, ...lines.map((l) => l.service.length + 2))
  const frame = SPINNER[Math.floor(now / 100) % SPINNER.length] ?? ' '
  return (
    <Box flexDirection="column">
      {lines.map((l) => {
        const finished = DONE.includes(l.state)
        const icon = l.state === 'ready' || l.state === 'running' ? '✔' : l.state === 'crashed' || l.state === 'unhealthy' ? '✖' : l.state === 'stopped' ? '■' : l.state === 'pending' ? '·' : frame
        const elapsed = l.readyMs ?? (finished ? l.sinceMs : now - startedAt)
        return (
          <Text key={l.service}>
            <Text color={COLORS[l.state] ?? 'white'}>{icon} </Text>
            <Text bold>{l.service.padEnd(width)}</Text>
            <Text color={COLORS[l.state] ?? 'white'}>{l.state.padEnd(10)}</Text>
            <Text dimColor>{formatSeconds(elapsed).padStart(7)}</Text>
            {l.message ? <Text dimColor>{`  ${l.message}`}</Text> : null}
          </Text>
        )
      })}
    </Box>
  )
}

export function renderProgressView(stream: NodeJS.WritableStream): Progress {
  const startedAt = Date.now()
  let lines: ServiceLine[] = []
  const instance = render(<ProgressView lines={lines} startedAt={startedAt} />, {
    stdout: stream as NodeJS.WriteStream,
    patchConsole: false,
    exitOnCtrlC: false,
  })
  return {
    onEvent(event: RuntimeEvent) {
      if (event.type === 'info') return
      lines = applyEvent(lines, event)
      instance.rerender(<ProgressView lines={lines} startedAt={startedAt} />)
    },
    async done() {
      instance.rerender(<ProgressView lines={lines} startedAt={startedAt} />)
      // Ask for the exit promise before unmounting: asked afterwards, ink creates one that never settles.
      const exited = instance.waitUntilExit().catch(() => undefined)
      instance.unmount()
      await exited
      // ink leaves the cursor at the end of its last line; what follows starts on a fresh one.
      stream.write('\n')
    },
  }
}
