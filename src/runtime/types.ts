/**
 * The one interface `iam up|down|status|logs` talk to. Two implementations: native (supervised child processes,
 * src/runtime/native.ts) and compose (docker/podman compose, src/runtime/compose.ts).
 */

export type RuntimeKind = 'native' | 'compose'

/** Lifecycle of one service. `running` = process/container up but not (yet) checked healthy. */
export type ServiceStateName =
  | 'pending'
  | 'migrating'
  | 'starting'
  | 'ready'
  | 'running'
  | 'unhealthy'
  | 'crashed'
  | 'stopped'

export type ServiceName = 'kratos' | 'keto' | 'oathkeeper' | 'batch-auth' | 'role-webhook' | 'mail' | (string & {})

export interface ServiceStatus {
  name: ServiceName
  state: ServiceStateName
  /** Native runtime: the server's process id. */
  pid?: number
  /** Compose runtime: the container name. */
  container?: string
  /** Named ports, e.g. {public: 4433, admin: 4434}. */
  ports: Record<string, number>
  /** Base URLs by the same names as ports. */
  urls: Record<string, string>
  version?: string
  /** Last health answer: `ready`, `HTTP 503`, `connection refused`, `exited with code 1`, ... */
  health?: string
  /** Log file (native) for `iam logs`. */
  logFile?: string
}

export interface StatusReport {
  runtime: RuntimeKind
  project: string
  services: ServiceStatus[]
  /** True when every service is ready. */
  healthy: boolean
}

export type RuntimeEvent =
  | {type: 'plan'; services: ServiceName[]}
  | {type: 'service'; service: ServiceName; state: ServiceStateName; message?: string; elapsedMs: number}
  | {type: 'info'; message: string}

export type RuntimeEventListener = (event: RuntimeEvent) => void

export interface StartOptions {
  /** Per-service budget to become ready (ms). */
  timeoutMs?: number
  onEvent?: RuntimeEventListener
  signal?: AbortSignal
}

export interface StartResult {
  /** Nothing was started because everything was already running. */
  alreadyRunning: boolean
  /** Services this call started (the rest were already running). */
  started: ServiceName[]
  /** Running services this call restarted because what they run with changed, and why. */
  restarted?: {service: ServiceName; reasons: string[]}[]
  /** Running services this call stopped because iam.yaml no longer plans them. */
  stopped?: ServiceName[]
  status: StatusReport
}

export interface StopOptions {
  /** Delete data (SQLite files / compose volumes). */
  purge?: boolean
  /** Grace period between SIGTERM and SIGKILL (ms). */
  graceMs?: number
  onEvent?: RuntimeEventListener
}

export interface StopResult {
  stopped: ServiceName[]
  purged: boolean
}

export interface LogsOptions {
  service?: ServiceName
  follow?: boolean
  /** Last N lines per service. */
  tail?: number
  out: NodeJS.WritableStream
  signal?: AbortSignal
}

export interface Runtime {
  readonly kind: RuntimeKind
  start(o?: StartOptions): Promise<StartResult>
  stop(o?: StopOptions): Promise<StopResult>
  status(): Promise<StatusReport>
  logs(o: LogsOptions): Promise<void>
}

