import {PassThrough} from 'node:stream'
import {finished} from 'node:stream/promises'

import {describe, expect, it} from 'vitest'

import {jsonLinesStream, type LogLine} from '../../src/ui/json-lines.js'

async function convert(chunks: (string | Buffer)[], service?: string): Promise<LogLine[]> {
  const sink = new PassThrough()
  let text = ''
  sink.on('data', (d: Buffer) => (text += d.toString('utf8')))
  const stream = jsonLinesStream(sink, service)
  for (const chunk of chunks) stream.write(chunk)
  stream.end()
  await finished(stream)
  return text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as LogLine)
}

describe('iam logs --json lines', () => {
  it('names the service from the runtime prefix, whatever the chunking', async () => {
    const lines = await convert(['kratos       | started\nketo         | li', Buffer.from('stening on :4466\r\nkratos-1  | a | b\n')])
    expect(lines).toEqual([
      {service: 'kratos', line: 'started'},
      {service: 'keto', line: 'listening on :4466'},
      {service: 'kratos-1', line: 'a | b'},
    ])
  })

  it('with one service every line is its own, " | " included, and a last line without newline is kept', async () => {
    expect(await convert(['level=info msg=a | b\nno newline'], 'kratos')).toEqual([
      {service: 'kratos', line: 'level=info msg=a | b'},
      {service: 'kratos', line: 'no newline'},
    ])
  })
})
