// What the real-server helpers share: loopback ports and child processes that never outlive
// the test process.
import type { ChildProcess } from 'node:child_process'
import net from 'node:net'

/** A loopback port the OS says is free right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer()
    probe.unref()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo
      probe.close(() => resolve(port))
    })
  })
}

// Children still running when the test process exits are killed, so no test leaves one behind.
const live = new Set<ChildProcess>()
let exitHook = false

/** Kills `child` with SIGKILL if it is still running when this process exits. */
export function killOnExit(child: ChildProcess): void {
  live.add(child)
  child.once('exit', () => live.delete(child))
  if (!exitHook) {
    exitHook = true
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL')
    })
  }
}
