import {Flags} from '@oclif/core'
import {resolve} from 'node:path'

import {BaseCommand} from '../../cli/base-command.js'
import {stackDirFlag} from '../../cli/flags.js'
import {ExitCode} from '../../errors.js'
import {exportHelm, type HelmExportReport} from '../../export/helm.js'

export default class ExportHelm extends BaseCommand<typeof ExportHelm> {
  static override description = `Export the stack for Kubernetes: values for the official Ory Helm charts (ory/k8s 0.62.x) and manifests.

Writes into --out: values-kratos.yaml, values-keto.yaml, values-oathkeeper.yaml (the rendered configs, identity schema
and access rules with in-cluster service URLs), keto-namespaces.yaml (the permission file as a ConfigMap),
iam-servers.yaml (batch-auth and role-webhook: Deployment, Service, probes, non-root, read-only root filesystem),
network-policy.yaml (admin APIs reachable only from inside the namespace), a Dockerfile for the servers' image and a
README.md with the \`kubectl create secret\` and \`helm install\` commands in order. No exported file holds a secret:
secrets are references to Kubernetes Secrets. Only changed files are written; --check writes nothing and exits 1
when a file is missing or differs (for CI).`

  static override examples = [
    '<%= config.bin %> export helm --out k8s',
    '<%= config.bin %> export helm --out k8s --check',
    '<%= config.bin %> export helm -C ./my-stack --out k8s --release shop --namespace shop-iam --json',
  ]

  static override flags = {
    dir: stackDirFlag,
    out: Flags.string({description: 'Output folder (relative to the project directory).', required: true}),
    check: Flags.boolean({description: 'Write nothing; exit 1 when an exported file is missing or differs.'}),
    release: Flags.string({description: 'Prefix of the Helm releases and of every name (default: the project name).'}),
    namespace: Flags.string({description: 'Kubernetes namespace (default: the release).'}),
  }

  async run(): Promise<HelmExportReport> {
    const report = await exportHelm(resolve(this.flags.dir), {
      out: this.flags.out,
      check: this.flags.check,
      release: this.flags.release,
      namespace: this.flags.namespace,
    })
    for (const warning of report.warnings) this.reporter.warn(warning)
    if (!this.jsonEnabled()) {
      const width = Math.max(...report.files.map((f) => f.status.length))
      for (const file of report.files) this.log(`${file.status.padEnd(width)}  ${file.path}`)
      if (this.flags.check && report.drift) {
        const differing = report.files.filter((f) => f.status !== 'unchanged').map((f) => f.path)
        process.stderr.write(`drift: ${differing.length} file(s) differ from what iam.yaml exports to: ${differing.join(', ')}\n`)
        process.stderr.write('  fix: run `iam export helm` with the same --out.\n')
      }
    }
    if (this.flags.check && report.drift) process.exitCode = ExitCode.Failure
    return report
  }
}
