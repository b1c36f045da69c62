// Starts a throwaway PostgreSQL server for tests: the machine's own binaries (initdb + pg_ctl),
// a temp data directory, a free loopback port, trust auth. PostgreSQL refuses to run as root, so
// as root the server runs as the `postgres` system user (created by Debian's postgresql package).
import { execFile, execFileSync, spawnSync } from 'node:child_process'
import {
  accessSync,
  appendFileSync,
  chownSync,
  constants,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './local.ts'

/** A running test server; `url` connects as the superuser `postgres` to database `postgres`. */
export interface PostgresServer {
  port: number
  url: string
  /** Shuts the server down and removes its data directory. Safe to call twice. */
  stop(): Promise<void>
  /** Stops the server abruptly (immediate shutdown, like a crash); `restart()` brings it back. */
  kill(): Promise<void>
  /** Starts the server again on the same port and data, stopping it first if it runs. */
  restart(): Promise<void>
}

const INSTALL = 'apt-get install -y postgresql'

/** Directory holding initdb and pg_ctl: newest /usr/lib/postgresql/<version>/bin, else PATH. */
function findBinDir(): string {
  const root = '/usr/lib/postgresql'
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
      .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a))
    if (versions[0] !== undefined) return join(root, versions[0], 'bin')
  }
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) return dir
  }
  throw new Error(
    `PostgreSQL server binaries (initdb, pg_ctl) not found under ${root}/*/bin or on PATH. ` +
      `Install them with: ${INSTALL}`,
  )
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0

/** The system user the server runs as when we are root. */
function serverUser(): { name: string; uid: number; gid: number } {
  const out = (cmd: string) => {
    try {
      return execFileSync('id', [cmd, 'postgres'], { stdio: 'pipe' }).toString().trim()
    } catch {
      return undefined
    }
  }
  const uid = out('-u')
  const gid = out('-g')
  if (uid === undefined || gid === undefined) {
    throw new Error(
      `PostgreSQL refuses to run as root and there is no 'postgres' system user to run it as. ` +
        `Install the server package, which creates that user: ${INSTALL}`,
    )
  }
  return { name: 'postgres', uid: Number(uid), gid: Number(gid) }
}

/** Where a program lives: PATH, then the sbin directories root's PATH may lack. */
function which(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin', '/bin']
  return dirs
    .filter((dir) => dir.startsWith('/'))
    .map((dir) => join(dir, name))
    .find((path) => {
      try {
        accessSync(path, constants.X_OK)
        return true
      } catch {
        return false
      }
    })
}

/** `bin args` as another user: runuser (util-linux, on every Debian), else su. */
function asUserCommand(user: string, bin: string, args: string[]): [string, string[]] {
  const runuser = which('runuser')
  if (runuser) return [runuser, ['-u', user, '--', bin, ...args]]
  // su hands the words after the user to the shell as $0, $1, …, so nothing needs quoting;
  // `--` stops su from reading the server's own flags (-D, -m) as its options.
  return [which('su') ?? 'su', ['-s', '/bin/sh', '-c', 'exec "$0" "$@"', '--', user, bin, ...args]]
}

/** Runs a binary (as the server user when we are root); rejects with its output on failure. */
function run(bin: string, args: string[], cwd: string, asUser?: string): Promise<string> {
  const [file, argv] = asUser ? asUserCommand(asUser, bin, args) : [bin, args]
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C', LANG: 'C' }
  // The caller's PG* variables (PGDATA, PGPORT, …) must not steer the test server.
  for (const key of Object.keys(env)) if (key.startsWith('PG')) delete env[key]
  return new Promise((resolve, reject) => {
    execFile(file, argv, { cwd, env, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err)
        reject(new Error(`${bin} ${args.join(' ')} failed: ${err.message}\n${stdout}${stderr}`))
      else resolve(`${stdout}${stderr}`)
    })
  })
}

// Servers still running when the process exits (a test crashed before stop()) are shut down.
const running = new Set<() => void>()
let exitHookInstalled = false
function onExit(cleanup: () => void): () => void {
  if (!exitHookInstalled) {
    exitHookInstalled = true
    process.on('exit', () => {
      for (const fn of running) fn()
    })
  }
  running.add(cleanup)
  return () => running.delete(cleanup)
}

/**
 * Starts PostgreSQL in a temp directory on a free loopback port and resolves once it accepts
 * connections. Throws with the install command when the binaries are missing.
 */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = findBinDir()
  const root = isRoot()
  const user = root ? serverUser() : undefined
  // As root the server user must be able to reach the directory: /tmp is world-traversable,
  // a root-only TMPDIR may not be.
  const dir = mkdtempSync(join(root ? '/tmp' : tmpdir(), 'sealed-session-pg-'))
  const data = join(dir, 'data')
  const log = join(dir, 'server.log')
  const as = user?.name
  const pgCtl = join(bin, 'pg_ctl')
  let up = false
  let removed = false

  const forget = onExit(() => {
    // Synchronous on purpose: 'exit' handlers cannot wait.
    if (up) {
      const stop = ['stop', '-D', data, '-m', 'immediate']
      const [file, argv] = as ? asUserCommand(as, pgCtl, stop) : [pgCtl, stop]
      spawnSync(file, argv, { cwd: dir, stdio: 'ignore' })
    }
    rmSync(dir, { recursive: true, force: true })
  })

  const start = async () => {
    // -w waits until the server accepts connections (pg_ctl reads postmaster.pid's status).
    await run(pgCtl, ['start', '-D', data, '-l', log, '-w', '-t', '60'], dir, as).catch(
      (err: Error) => {
        const tail = existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : ''
        throw new Error(`${err.message}\nserver log:\n${tail}`)
      },
    )
    up = true
  }
  const halt = async (mode: 'fast' | 'immediate') => {
    if (!up) return
    up = false
    await run(pgCtl, ['stop', '-D', data, '-m', mode, '-w', '-t', '60'], dir, as)
  }

  let port = 0
  try {
    if (user) chownSync(dir, user.uid, user.gid)
    await run(
      join(bin, 'initdb'),
      ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'],
      dir,
      as,
    )
    // Another process may take the free port before the server binds it: try a few.
    for (let attempt = 1; ; attempt++) {
      port = await freePort()
      // Loopback only, socket in our own directory, durability off: this server holds test
      // data. Root may append to the server user's file (it keeps its owner); the last
      // setting of a name wins, so a retry appends a new port.
      appendFileSync(
        join(data, 'postgresql.conf'),
        [
          '',
          '# sealed-session test server',
          `port = ${port}`,
          `listen_addresses = '127.0.0.1'`,
          `unix_socket_directories = '${dir}'`,
          'fsync = off',
          'full_page_writes = off',
          'shared_buffers = 16MB',
          'max_connections = 100',
          'dynamic_shared_memory_type = mmap',
          '',
        ].join('\n'),
      )
      try {
        await start()
        break
      } catch (err) {
        if (attempt >= 3 || !/already in use/i.test(String(err))) throw err
      }
    }
  } catch (err) {
    forget()
    rmSync(dir, { recursive: true, force: true })
    throw err
  }

  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      if (removed) return
      removed = true
      try {
        await halt('fast')
      } finally {
        forget()
        rmSync(dir, { recursive: true, force: true })
      }
    },
    kill: () => halt('immediate'),
    async restart() {
      await halt('fast')
      await start()
    },
  }
}
