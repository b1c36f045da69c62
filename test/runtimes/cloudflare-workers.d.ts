// The Workers runtime module the KV tests import (`env`: the Worker's bindings), typed only as far
// as they use it, so tsc checks them without @cloudflare/workers-types.
declare module 'cloudflare:workers' {
  export const env: Record<string, unknown>
}
