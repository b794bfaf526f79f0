/**
 * A minimal Prometheus registry (text exposition format 0.0.4): counters and histograms with labels.
 * Bind label values once (`counter.labels('allowed')`) and keep the child: `inc()`/`observe()` on a bound child
 * do no allocation, which matters on a per-request path.
 */

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

/** Default latency buckets in seconds: 0.5 ms … 5 s. */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

interface Metric {
  render(): string
}

export interface CounterChild {
  inc(by?: number): void
  readonly value: number
}

export interface HistogramChild {
  /** Records one observation (seconds for latencies, by Prometheus convention). */
  observe(value: number): void
  readonly count: number
  readonly sum: number
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')
}

function labelText(names: readonly string[], values: readonly string[], extra?: string): string {
  const parts = names.map((n, i) => `${n}="${escapeLabel(values[i] ?? '')}"`)
  if (extra) parts.push(extra)
  return parts.length === 0 ? '' : `{${parts.join(',')}}`
}

function checkName(name: string): void {
  if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) throw new Error(`invalid metric name: ${name}`)
}

export class Counter implements Metric {
  private readonly children = new Map<string, {values: string[]; child: CounterChild & {value: number}}>()
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[] = [],
  ) {
    checkName(name)
  }

  /** The child for these label values (created on first use, then reused). */
  labels(...values: string[]): CounterChild {
    if (values.length !== this.labelNames.length) throw new Error(`${this.name}: expected ${this.labelNames.length} label values`)
    const key = values.join('\u0000')
    let entry = this.children.get(key)
    if (!entry) {
      const child = {
        value: 0,
        inc(by = 1): void {
          child.value += by
        },
      }
      entry = {values, child}
      this.children.set(key, entry)
    }
    return entry.child
  }

  inc(by = 1): void {
    this.labels().inc(by)
  }

  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} counter\n`
    for (const {values, child} of this.children.values()) out += `${this.name}${labelText(this.labelNames, values)} ${child.value}\n`
    return out
  }
}

class HistogramState implements HistogramChild {
  readonly counts: Float64Array
  count = 0
  sum = 0
  constructor(private readonly buckets: readonly number[]) {
    this.counts = new Float64Array(buckets.length)
  }

  observe(value: number): void {
    this.count++
    this.sum += value
    // Cumulative counts are computed at render time; here only the first matching bucket is bumped.
    const b = this.buckets
    for (let i = 0; i < b.length; i++) {
      if (value <= b[i]!) {
        this.counts[i]!++
        return
      }
    }
  }
}

export class Histogram implements Metric {
  private readonly children = new Map<string, {values: string[]; state: HistogramState}>()
  readonly buckets: readonly number[]
  constructor(
    readonly name: string,
    readonly help: string,
    o: {buckets?: readonly number[]; labelNames?: readonly string[]} = {},
  ) {
    checkName(name)
    this.buckets = [...(o.buckets ?? LATENCY_BUCKETS)].sort((a, b) => a - b)
    this.labelNames = o.labelNames ?? []
  }

  readonly labelNames: readonly string[]

  labels(...values: string[]): HistogramChild {
    if (values.length !== this.labelNames.length) throw new Error(`${this.name}: expected ${this.labelNames.length} label values`)
    const key = values.join('\u0000')
    let entry = this.children.get(key)
    if (!entry) {
      entry = {values, state: new HistogramState(this.buckets)}
      this.children.set(key, entry)
    }
    return entry.state
  }

  observe(value: number): void {
    this.labels().observe(value)
  }

  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} histogram\n`
    for (const {values, state} of this.children.values()) {
      let cumulative = 0
      for (let i = 0; i < this.buckets.length; i++) {
        cumulative += state.counts[i]!
        out += `${this.name}_bucket${labelText(this.labelNames, values, `le="${this.buckets[i]}"`)} ${cumulative}\n`
      }
      out += `${this.name}_bucket${labelText(this.labelNames, values, 'le="+Inf"')} ${state.count}\n`
      out += `${this.name}_sum${labelText(this.labelNames, values)} ${state.sum}\n`
      out += `${this.name}_count${labelText(this.labelNames, values)} ${state.count}\n`
    }
    return out
  }
}

export class MetricsRegistry {
  private readonly metrics = new Map<string, Metric>()

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.add(name, new Counter(name, help, labelNames))
  }

  histogram(name: string, help: string, o: {buckets?: readonly number[]; labelNames?: readonly string[]} = {}): Histogram {
    return this.add(name, new Histogram(name, help, o))
  }

  /** The whole registry in Prometheus text format. */
  render(): string {
    let out = ''
    for (const m of this.metrics.values()) out += m.render()
    return out
  }

  private add<T extends Metric>(name: string, metric: T): T {
    if (this.metrics.has(name)) throw new Error(`metric already registered: ${name}`)
    this.metrics.set(name, metric)
    return metric
  }
}
