// Clients for the stress tests: a fetch cookie jar with a timeout on every request, direct reads
// of session records from Redis, and an autocannon run in which every connection is one browser
// that keeps its own session cookie.
import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { redisCommand } from '../servers/redis.ts'
import { Jar, parseSetCookie } from '../support.ts'

export const COOKIE = 'sid'

/** Over HTTP, `Jar.request` takes a fetch without redirects and with a deadline. */
export const http = (timeoutMs = 5000) => ({
  request: (url: string, init?: RequestInit) =>
    fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) }),
})

/** A browser: one cookie jar, requests to any of the servers. */
export class Browser {
  readonly jar = new Jar()
  constructor(readonly timeoutMs = 5000) {}

  async send(base: string, method: string, path: string): Promise<Response> {
    return this.jar.request(http(this.timeoutMs), `${base}${path}`, { method })
  }

  async text(
    base: string,
    method: string,
    path: string,
  ): Promise<{ status: number; body: string }> {
    const res = await this.send(base, method, path)
    return { status: res.status, body: await res.text() }
  }

  async whoami(
    base: string,
  ): Promise<{ userId: string | null; isNew: boolean; id: string | null }> {
    const res = await this.send(base, 'GET', '/whoami')
    if (res.status !== 200) throw new Error(`GET /whoami: ${res.status} ${await res.text()}`)
    return res.json()
  }

  /** The session cookie this browser holds, or undefined. */
  get cookie(): string | undefined {
    return this.jar.cookies.get(COOKIE)
  }

  set cookie(value: string | undefined) {
    if (value === undefined) this.jar.cookies.delete(COOKIE)
    else this.jar.cookies.set(COOKIE, value)
  }
}

/** The store id inside a store-mode cookie value (`<id>.<signature>`). */
export const idOf = (cookie: string) => cookie.slice(0, cookie.indexOf('.'))

/** The session record stored in Redis for a store-mode cookie, or null. */
export async function storedRecord(
  redisPort: number,
  cookie: string,
): Promise<{ data: Record<string, unknown> } | null> {
  const value = await redisCommand(redisPort, ['GET', `sess:${idOf(cookie)}`])
  if (value instanceof Error) throw value
  return typeof value === 'string' ? JSON.parse(value) : null
}

/** Every session record in Redis (`sess:*` but the per-user index hashes), by key. */
export async function allStoredRecords(
  redisPort: number,
): Promise<Map<string, { data: Record<string, unknown> }>> {
  const records = new Map<string, { data: Record<string, unknown> }>()
  let cursor = '0'
  do {
    const reply = await redisCommand(redisPort, [
      'SCAN',
      cursor,
      'MATCH',
      'sess:*',
      'COUNT',
      '1000',
    ])
    if (!Array.isArray(reply)) throw new Error(`SCAN: ${String(reply)}`)
    cursor = String(reply[0])
    for (const key of reply[1] as string[]) {
      if (key.startsWith('sess:user:')) continue
      const value = await redisCommand(redisPort, ['GET', key])
      if (typeof value === 'string') records.set(key, JSON.parse(value))
    }
  } while (cursor !== '0')
  return records
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `check` every `everyMs` until it returns a value, at most `timeoutMs`. */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check().catch(() => undefined)
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`)
    await sleep(everyMs)
  }
}

/** Writes a result file under .tmp/stress/ for docs and summaries to quote. */
export function writeResult(name: string, result: unknown): string {
  const dir = fileURLToPath(new URL('../../.tmp/stress/', import.meta.url))
  mkdirSync(dir, { recursive: true })
  const file = `${dir}${name}.json`
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`)
  return file
}

/** Percentile of sorted numbers (nearest rank). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank]!
}

/** One response an autocannon connection received. */
export interface Answer {
  /** An increment (else a read of the counter). */
  inc: boolean
  /** Epoch ms the request was built (just before it was written). */
  sentAt: number
  /** Epoch ms the response was complete. */
  at: number
  status: number
  body: string
  /** Latency autocannon measured, ms. */
  latency: number
  /** How long the server took (its `x-took-ms` header), ms. */
  tookMs?: number
  /** The session cookie the request carried. */
  cookieSent: string | undefined
  /** Set-Cookie values for the session cookie in the response (raw). */
  setCookies: string[]
}

/** What one autocannon connection, acting as one browser, did. */
export interface Connection {
  index: number
  /** Port of the server this connection talks to. */
  port: number
  /** The session cookie it holds now. */
  cookie: string | undefined
  /** Every distinct session cookie it was given, in order. */
  cookies: string[]
  /** The counter value of its current session that the last 2xx increment answered. */
  value: number
  /** Epoch ms that answer arrived. */
  valueAt: number
  /** 2xx answers to increments in its current session. */
  acks: number
  /**
   * Increments answered non-2xx since the last 2xx one. Such a commit may still have landed
   * (the store applied it, then the reply was lost), so the next value may skip that many.
   */
  uncertain: number
  /** Increments answered non-2xx that had been committed all the same (the next value skipped them). */
  skipped: number
  /** Increments sent (answered or not). */
  sent: number
  /** Answers that broke the per-session sequence 1, 2, 3, … (or a read that disagreed). */
  mismatches: string[]
  /**
   * Of those, the answers below the last acknowledged value: the store lost acknowledged
   * increments (`acked` answered at `ackedAt`, the store held `visible`).
   */
  regressions: { ackedAt: number; acked: number; visible: number }[]
  /** Non-2xx answers that carried a Set-Cookie for the session (would log the user out). */
  cookieOnError: number
  /** Every answer, when `record` is on. */
  answers: Answer[]
  /** Latencies of 2xx increments, ms. */
  incLatencies: number[]
}

export interface CookieLoadOptions {
  /** One server, or several (connections are spread over them). */
  url: string | string[]
  connections: number
  /** Seconds of increments; then one more second of reads of the counter. */
  seconds: number
  /** Keep every answer (for fault timelines). */
  record?: boolean
  /** Seconds autocannon waits for one response before counting a timeout. */
  timeout?: number
}

export interface CookieLoadResult {
  result: autocannon.Result
  connections: Connection[]
  startedAt: number
  incrementsEndAt: number
}

/**
 * Runs autocannon against `POST /inc` with one session per connection: each connection sends
 * the session cookie it was last given (autocannon keeps no cookies itself) and checks that
 * every 2xx answer is the next number of its session. After `seconds`, the connections switch
 * to `GET /count` for one second, so autocannon stops on reads: no increment is left in flight,
 * and every increment the server committed is one the client saw answered.
 */
export async function runCookieLoad(options: CookieLoadOptions): Promise<CookieLoadResult> {
  const connections: Connection[] = []
  const startedAt = Date.now()
  const incrementsEndAt = startedAt + options.seconds * 1000

  const setupClient = (client: autocannon.Client) => {
    const conn: Connection = {
      index: connections.length,
      port: Number((client as unknown as { opts: { port: unknown } }).opts.port),
      cookie: undefined,
      cookies: [],
      value: 0,
      valueAt: 0,
      acks: 0,
      uncertain: 0,
      skipped: 0,
      sent: 0,
      mismatches: [],
      regressions: [],
      cookieOnError: 0,
      answers: [],
      incLatencies: [],
    }
    connections.push(conn)
    // What the request in flight was: set in setupRequest, read in onResponse.
    let inflight = { sentAt: 0, inc: true, cookie: undefined as string | undefined }
    let pending: Omit<Answer, 'latency' | 'at'> | undefined
    client.setRequests([
      {
        setupRequest: (request) => {
          const inc = Date.now() < incrementsEndAt
          inflight = { sentAt: Date.now(), inc, cookie: conn.cookie }
          if (inc) conn.sent++
          request.method = inc ? 'POST' : 'GET'
          request.path = inc ? '/inc' : '/count'
          request.headers = { ...request.headers }
          if (conn.cookie) request.headers.cookie = `${COOKIE}=${conn.cookie}`
          else delete request.headers.cookie
          return request
        },
        onResponse: (status, body, _context, headers) => {
          const raw = headers?.['set-cookie'] ?? headers?.['Set-Cookie']
          const setCookies = (raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]).filter(
            (c) => parseSetCookie(c).name === COOKIE,
          )
          const ok = status >= 200 && status < 300
          if (!ok) {
            if (setCookies.length > 0) conn.cookieOnError++
            if (inflight.inc) conn.uncertain++
          } else {
            for (const c of setCookies) {
              const parsed = parseSetCookie(c)
              const cleared = parsed.value === '' || parsed.attributes['max-age'] === '0'
              const next = cleared ? undefined : parsed.value
              if (next !== conn.cookie) {
                // A new session: its counter starts again.
                conn.cookie = next
                if (next) conn.cookies.push(next)
                conn.value = 0
                conn.acks = 0
                conn.uncertain = 0
              }
            }
            if (inflight.inc) {
              const n = Number(body)
              if (!(n >= conn.value + 1 && n <= conn.value + 1 + conn.uncertain)) {
                const most = conn.value + 1 + conn.uncertain
                conn.mismatches.push(
                  `increment answered ${body}, expected ${conn.value + 1}${most > conn.value + 1 ? `..${most}` : ''}`,
                )
              }
              if (n <= conn.value) {
                conn.regressions.push({ ackedAt: conn.valueAt, acked: conn.value, visible: n - 1 })
              }
              if (n > conn.value + 1) conn.skipped += n - conn.value - 1
              conn.value = n
              conn.valueAt = Date.now()
              conn.acks++
              conn.uncertain = 0
            } else {
              // Increments answered non-2xx since the last 2xx one may have landed.
              const n = Number(body)
              if (!(n >= conn.value && n <= conn.value + conn.uncertain)) {
                const most = conn.value + conn.uncertain
                conn.mismatches.push(
                  `read answered ${body}, expected ${conn.value}${most > conn.value ? `..${most}` : ''}`,
                )
              }
              if (n < conn.value) {
                conn.regressions.push({ ackedAt: conn.valueAt, acked: conn.value, visible: n })
              }
            }
          }
          const took = headers?.['x-took-ms'] ?? headers?.['X-Took-Ms']
          pending = {
            ...(took === undefined ? {} : { tookMs: Number(took) }),
            inc: inflight.inc,
            sentAt: inflight.sentAt,
            status,
            body,
            cookieSent: inflight.cookie,
            setCookies,
          }
        },
      },
    ])
    // Emitted right after onResponse, with autocannon's own latency for that response.
    client.on('response', (status: number, _bytes: number, latency: number) => {
      const answer = pending
      pending = undefined
      if (!answer) return
      if (options.record) conn.answers.push({ ...answer, at: Date.now(), latency })
      if (inflight.inc && status >= 200 && status < 300) conn.incLatencies.push(latency)
    })
  }

  const instance = autocannon({
    url: options.url as string, // an array works too: connections are spread over the URLs
    connections: options.connections,
    duration: options.seconds + 1,
    timeout: options.timeout ?? 10,
    setupClient,
  }) as unknown as Promise<autocannon.Result> & { stop(): void } // a thenable tracker
  const bound = (options.seconds + 1) * 1000 + 30_000
  let timer: NodeJS.Timeout | undefined
  const result = await Promise.race([
    instance,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        instance.stop()
        reject(new Error(`autocannon did not finish within ${bound} ms`))
      }, bound)
    }),
  ]).finally(() => clearTimeout(timer))
  return { result, connections, startedAt, incrementsEndAt }
}
