#!/usr/bin/env node
// `npm run setup`: build the Ory binaries iam runs into the iam cache, from the tags' source archives, and Helm. The archives
// come from IAM_ORY_SOURCE_ARCHIVES when set, else from ../shared/ory/src when this checkout sits beside such a
// folder (this workplace and its CI, which have no route to GitHub), else from GitHub.
import {spawnSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const env = {...process.env}
const beside = fileURLToPath(new URL('../../shared/ory/src', import.meta.url))
if (!env.IAM_ORY_SOURCE_ARCHIVES && existsSync(beside)) env.IAM_ORY_SOURCE_ARCHIVES = beside
const result = spawnSync(process.execPath, ['bin/run.js', 'install', '--from-source', 'all', ...process.argv.slice(2)], {cwd: root, env, stdio: 'inherit'})
if (result.status !== 0) process.exit(result.status ?? 1)
// Helm for the tests of `iam export helm` (tools/helm.mjs: built once from the Go module proxy, cached).
const helm = spawnSync(process.execPath, ['tools/helm.mjs'], {cwd: root, env, stdio: ['ignore', 'ignore', 'inherit']})
process.exit(helm.status ?? 1)
