import {Writable} from 'node:stream'

import {usageError} from '../errors.js'

/** Where a password comes from: never a flag value (it would sit in the process list and the shell history). */
export interface PasswordSource {
  /** Name of an environment variable holding it. */
  envName?: string
  /** Read the first line of stdin. */
  stdin?: boolean
  /** Ask on the terminal (no echo) when neither is given and stdin is a TTY; the prompt text. */
  prompt?: string
}

/** The password from the environment, stdin or a prompt without echo; undefined when none was asked for. */
export async function readPassword(source: PasswordSource, io: {stdin?: NodeJS.ReadStream; stderr?: NodeJS.WriteStream} = {}): Promise<string | undefined> {
  const stdin = io.stdin ?? process.stdin
  if (source.envName !== undefined) {
    const value = process.env[source.envName]
    if (!value) throw usageError('PASSWORD_ENV_MISSING', `The environment variable ${source.envName} is not set.`)
    return value
  }
  if (source.stdin) {
    const line = await readStdinLine(stdin)
    if (!line) throw usageError('PASSWORD_EMPTY', 'stdin held no password.')
    return line
  }
  if (source.prompt === undefined) return undefined
  if (!stdin.isTTY) {
    throw usageError('PASSWORD_REQUIRED', 'A password is needed and there is no terminal to ask on.', {suggestion: 'Pipe it in with --password-stdin, or name an environment variable with --password-env.'})
  }
  const line = await promptHidden(source.prompt, stdin, io.stderr ?? process.stderr)
  if (!line) throw usageError('PASSWORD_EMPTY', 'No password was typed.')
  return line
}

/** The first line of stdin (a secret piped in: `pass show x | iam …`). */
export async function readStdinLine(stdin: NodeJS.ReadableStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? ''
}

/** One line from the terminal without echoing it (the prompt goes to stderr, so stdout stays the command's value). */
async function promptHidden(prompt: string, input: NodeJS.ReadStream, output: NodeJS.WriteStream): Promise<string> {
  const {createInterface} = await import('node:readline/promises')
  let muted = false
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (!muted) output.write(chunk)
      done()
    },
  })
  const rl = createInterface({input, output: sink, terminal: true})
  try {
    const answer = rl.question(prompt)
    muted = true
    const line = await answer
    output.write('\n')
    return line
  } finally {
    rl.close()
  }
}
