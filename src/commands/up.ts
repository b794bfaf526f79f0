import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {durationFlag, stackDirFlag} from '../cli/flags.js'
import {IamError} from '../errors.js'
import type {UpResult} from '../stack/up.js'

export default class Up extends BaseCommand<typeof Up> {
  static override summary = 'Start the Ory stack (Kratos, Keto, Oathkeeper and the embedded servers) and wait until it is ready.'

  static override description = `Renders the project first when iam.yaml changed (refuses on a config error), checks that every port is free, runs migrations, starts each service and returns once all answer /health/ready. The stack keeps running after iam exits (native: detached processes with pid and log files under .iam/; compose: containers); --attach stays in the foreground and stops everything on Ctrl-C.

--seed applies iam.yaml's seed: section (identities with their roles, then tuples; as \`iam seed\` does) once the stack is ready, also when it was already running: seeding is idempotent. A seed entry that fails makes the exit code 1 and leaves the stack running.

If any service fails to become ready within --timeout, iam prints which one, why (exit code or last health answer) and the end of its log, stops everything it started and exits 1. On a running stack it converges to iam.yaml: each service's command line, environment, binary and the files it reads at start are compared with what it was started with, and exactly the services that differ are restarted (in dependency order, health-waited, named with the reason); the others keep running, and a service iam.yaml no longer needs is stopped. Route changes reach Oathkeeper without a restart (it reloads its rules; \`iam up\` waits until it serves them). Compose: \`docker compose up -d\`, which recreates exactly the changed containers. With nothing changed it restarts nothing and shows the status.

Runtime: --runtime, else IAM_RUNTIME, else iam.yaml \`runtime\`; auto = compose when a Docker (or Podman) engine answers, native otherwise.`

  static override examples = [
    {description: 'Start the stack in the current project', command: '<%= config.bin %> up'},
    {description: 'Force the native runtime and wait up to two minutes per service', command: '<%= config.bin %> up --runtime native --timeout 2m'},
    {description: 'Stay in the foreground; Ctrl-C stops everything', command: '<%= config.bin %> up --attach'},
    {description: 'After editing iam.yaml: apply it to the running stack (restarts only what changed)', command: '<%= config.bin %> up'},
    {description: 'Start and apply the seed: section (test identities, roles, tuples) in one step', command: 'ADMIN_PASSWORD=… <%= config.bin %> up --seed'},
    {description: 'In CI: JSON result on stdout, JSON progress events on stderr', command: '<%= config.bin %> up --seed --json'},
  ]

  static override flags = {
    dir: stackDirFlag,
    runtime: Flags.string({description: 'Which runtime to use.', options: ['auto', 'native', 'compose'], env: 'IAM_RUNTIME'}),
    attach: Flags.boolean({description: 'Stay in the foreground and stop the stack on Ctrl-C.'}),
    timeout: durationFlag({description: 'How long each service may take to become ready, e.g. 90s or 2m.', default: 60_000, min: 1000}),
    seed: Flags.boolean({description: "Once ready, apply iam.yaml's seed: section (identities, roles, tuples); idempotent."}),
  }

  async run(): Promise<UpResult> {
    const [{up}, {createProgress}, fmt, {formatSeedReport}] = await Promise.all([
      import('../stack/up.js'),
      import('../ui/progress.js'),
      import('../ui/status-format.js'),
      import('../ui/seed-format.js'),
    ])
    const abort = new AbortController()
    const onSignal = (): void =>
      abort.abort(new IamError('INTERRUPTED', 'Interrupted: everything this run started was stopped.', {suggestion: 'Run `iam up` again to start the stack.'}))
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
    let progress: Awaited<ReturnType<typeof createProgress>> | undefined
    let outcome
    try {
      outcome = await up(this.flags.dir, {
        ...(this.flags.runtime ? {runtime: this.flags.runtime} : {}),
        timeoutMs: this.flags.timeout,
        seed: this.flags.seed,
        signal: abort.signal,
        progress: {
          begin: async () => {
            const view = await createProgress({json: this.jsonEnabled(), quiet: this.flags.quiet})
            progress = view
            return (e) => view.onEvent(e)
          },
          end: async () => progress?.done(),
        },
        onRendered: (f) => this.reporter.step('render', `${f.path} ${f.status}`),
        notice: (level, message) => (level === 'warn' ? this.reporter.warn(message) : this.reporter.info(message)),
      })
    } finally {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
    const {result, config, runtime} = outcome
    if (!this.jsonEnabled()) {
      if (result.alreadyRunning) this.log(`The stack of project ${config.project} is already running (${result.runtime} runtime) with what iam.yaml says; nothing to restart.\n`)
      else if (result.restarted.length > 0) {
        const kept = result.status.services.filter((s) => !result.started.includes(s.name)).map((s) => s.name)
        this.log(`Applied iam.yaml to the running stack: restarted ${result.restarted.map((r) => `${r.service} (${r.reasons.join(', ')})`).join('; ')}${kept.length > 0 ? `; left ${kept.join(', ')} running` : ''}.\n`)
      }
      this.log(fmt.formatStatusTable(result.status))
      if (result.status.healthy) this.log(fmt.formatEndpoints(result.endpoints, {secretsFile: result.secretsFile}))
      if (result.seed) this.log(formatSeedReport(result.seed))
    }
    if (!result.status.healthy || result.seed?.failed) process.exitCode = 1
    if (this.flags.attach) await this.attach(runtime)
    return result
  }

  /** Foreground mode: wait for Ctrl-C / SIGTERM, then stop everything. Reports a service that dies meanwhile. */
  private async attach(runtime: import('../runtime/types.js').Runtime): Promise<void> {
    this.reporter.info('attached: press Ctrl-C to stop the stack')
    const reported = new Set<string>()
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        void runtime.status().then((s) => {
          for (const svc of s.services) {
            if ((svc.state === 'crashed' || svc.state === 'unhealthy') && !reported.has(svc.name)) {
              reported.add(svc.name)
              this.reporter.warn(`${svc.name} is ${svc.state}: ${svc.health ?? ''}`)
            }
          }
        })
      }, 2000)
      const done = (): void => {
        clearInterval(timer)
        resolve()
      }
      process.once('SIGINT', done)
      process.once('SIGTERM', done)
    })
    this.reporter.info('stopping the stack…')
    const stopped = await runtime.stop({onEvent: (e) => e.type === 'service' && this.reporter.step(e.service, e.state)})
    this.reporter.info(`stopped ${stopped.stopped.length} service(s)`)
  }
}
