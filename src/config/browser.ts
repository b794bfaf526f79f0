/**
 * Pure: the browser's view of the stack, all on the gateway's origin (one source, as every other address). Kratos'
 * public API is served by the gateway under /.ory/ (its cookies and redirects land on that origin), the built-in
 * sign-in pages under /ui/, the app under /app/. A `kratos.uiUrl` of the user's own replaces the built-in pages.
 */
import {APP_PATH, derivedAddresses, ORY_PATH} from './addresses.js'
import type {IamConfig} from './model.js'

/** True when the flows' pages are iam's own (`iam serve ui` runs, the gateway serves /ui/). */
export function usesBuiltInUi(config: IamConfig): boolean {
  return config.kratos.uiUrl === derivedAddresses(config.ports, config.gateway.publicUrl).uiUrl
}

/**
 * Kratos' `serve.public.base_url`: the gateway's /.ory/ — unless kratos.publicUrl was set to a URL of its own (a
 * deployment that exposes Kratos on its own domain), which then is what browsers use.
 */
export function kratosBrowserUrl(config: IamConfig): string {
  const derived = derivedAddresses(config.ports, config.gateway.publicUrl)
  return config.kratos.publicUrl === derived.kratosPublicUrl ? `${derived.gatewayUrl}${ORY_PATH}` : config.kratos.publicUrl
}

/** The signed-in area below the gateway (the starter's `app` route, where the example app answers). */
export function appUrl(config: IamConfig): string {
  return `${derivedAddresses(config.ports, config.gateway.publicUrl).gatewayUrl}${APP_PATH}`
}

/** Where a finished flow returns by default: the app below the gateway with the built-in pages, else the user's UI. */
export function defaultReturnUrl(config: IamConfig): string {
  return usesBuiltInUi(config) ? appUrl(config) : config.kratos.uiUrl
}
