// What the Cluster failover test drives and watches: fetch browsers that keep one logged-in
// session and increment its counter (checking every answer against the last one), browsers that
// log in again and again and check each login held, and an observer that polls the cluster for
// the moments of the failover (master flagged failed, replica promoted, state ok again).

import { redisCommand } from '../servers/redis.ts'
import { type FailoverCluster, infoField } from '../servers/redis-cluster.ts'
import { Browser, COOKIE, idOf, sleep } from './clients.ts'

/** One answer (or a request that got none). */
export interface Hit {
  sentAt: number
  at: number
  /** 0: no answer (connection error or the client's deadline). */
  status: number
  body: string
  /** Set-Cookie values for the session cookie on this answer. */
  setCookies: string[]
  /** How long the server took (its `x-took-ms` header), ms. */
  tookMs?: number
  error?: string
}

/** Milliseconds a browser waits for an answer: far past any bound, so only a hang runs into it. */
export const DEADLINE_MS = 10_000

const sessionCookies = (res: Response) =>
  res.headers.getSetCookie().filter((c) => c.startsWith(`${COOKIE}=`))

async function hit(browser: Browser, base: string, method: string, path: string): Promise<Hit> {
  const sentAt = Date.now()
  try {
    const res = await browser.send(base, method, path)
    const body = await res.text()
    const took = res.headers.get('x-took-ms')
    return {
      sentAt,
      at: Date.now(),
      status: res.status,
      body,
      setCookies: sessionCookies(res),
      ...(took === null ? {} : { tookMs: Number(took) }),
    }
  } catch (err) {
    return { sentAt, at: Date.now(), status: 0, body: '', setCookies: [], error: String(err) }
  }
}

/** A write answered 200 whose effect a later answer showed gone. */
export interface LostWrite {
  /** Epoch ms the lost write was answered. */
  ackedAt: number
  /** Its session's key. */
  key: string
  /** Counter: acknowledged value and the value the next success built on. */
  acked?: number
  visible?: number
}

/** A logged-in browser incrementing its counter: `POST /inc` in a loop. */
export class Counter {
  readonly browser = new Browser(DEADLINE_MS)
  readonly hits: Hit[] = []
  /** The value the last 200 answered. */
  value = 0
  /** Answered 200 at. */
  valueAt = 0
  /** Increments answered non-200 since the last 200: each may have been committed. */
  uncertain = 0
  lost: LostWrite[] = []
  /** Answers outside every allowed outcome. */
  violations: string[] = []
  /** The session cookie changed on an answer (a fresh session replaced this one). */
  replaced = 0
  key = ''

  constructor(
    readonly base: string,
    readonly user: string,
  ) {}

  async login(): Promise<void> {
    const res = await this.browser.text(this.base, 'POST', `/login/${this.user}`)
    if (res.status !== 200) throw new Error(`login ${this.user}: ${res.status} ${res.body}`)
    this.key = `sess:${idOf(this.browser.cookie!)}`
    await this.inc()
    if (this.value !== 1) throw new Error(`first increment of ${this.user}: ${this.value}`)
  }

  async inc(): Promise<void> {
    const cookie = this.browser.cookie
    const h = await hit(this.browser, this.base, 'POST', '/inc')
    this.hits.push(h)
    if (this.browser.cookie !== cookie) this.replaced++
    if (h.status !== 200) {
      this.uncertain++
      return
    }
    const n = Number(h.body)
    if (n <= this.value) {
      // The store no longer held the last acknowledged value: those writes were lost.
      this.lost.push({ ackedAt: this.valueAt, key: this.key, acked: this.value, visible: n - 1 })
    } else if (n > this.value + 1 + this.uncertain) {
      this.violations.push(`answered ${n} after ${this.value} with ${this.uncertain} unanswered`)
    }
    this.value = n
    this.valueAt = h.at
    this.uncertain = 0
  }

  async run(running: () => boolean): Promise<void> {
    while (running()) {
      await this.inc()
      // A request with no answer at all: do not spin on a refused connection.
      if (this.hits.at(-1)!.status === 0) await sleep(20)
    }
  }
}

/** A browser logging in again and again: `POST /login/:user`, then `GET /whoami` until answered. */
export class Relogger {
  readonly browser = new Browser(DEADLINE_MS)
  readonly hits: Hit[] = []
  logins = 0
  lost: LostWrite[] = []
  violations: string[] = []

  constructor(
    readonly base: string,
    readonly user: string,
  ) {}

  async run(running: () => boolean): Promise<void> {
    while (running()) {
      const held = this.browser.cookie
      const login = await hit(this.browser, this.base, 'POST', `/login/${this.user}`)
      this.hits.push(login)
      if (login.status !== 200) {
        if (login.status === 0) await sleep(20)
        continue
      }
      this.logins++
      const id = login.body
      // Every login answered 200 is checked, even after the run ends: at most 40 tries.
      for (let tries = 0; tries < 40; tries++) {
        const who = await hit(this.browser, this.base, 'GET', '/whoami')
        this.hits.push(who)
        if (who.status !== 200) {
          await sleep(who.status === 0 ? 20 : 0)
          continue
        }
        const seen = JSON.parse(who.body) as { userId: string | null; id: string | null }
        if (seen.id !== id) {
          if (seen.userId === null) this.lost.push({ ackedAt: login.at, key: `sess:${id}` })
          else {
            this.violations.push(
              `logged in as ${id} (cookie before ${held}, Set-Cookie ${JSON.stringify(login.setCookies)}), whoami with ${this.browser.cookie} says ${who.body}`,
            )
          }
        }
        break
      }
    }
  }
}

/** Moments of one failover, epoch ms (0: not seen). */
export interface FailoverTimeline {
  killedAt: number
  /** A surviving master flags the dead one `fail`. */
  failFlaggedAt: number
  /** A survivor reports `cluster_state:fail`. */
  stateFailAt: number
  /** The dead master's replica reports itself master. */
  promotedAt: number
  /** A survivor reports `cluster_state:ok` again. */
  stateOkAt: number
}

/**
 * Polls the cluster every 25 ms until the replica of `victimId` is master and the state is ok,
 * at most `timeoutMs`: from a survivor, its view of the victim and `cluster_state`; from the
 * replica, `ROLE`.
 */
export async function watchFailover(
  cluster: FailoverCluster,
  survivorPort: number,
  victimId: string,
  replicaPort: number,
  timeline: FailoverTimeline,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const [nodes, info, role] = await Promise.all([
      cluster.topology(survivorPort).catch(() => []),
      redisCommand(survivorPort, ['CLUSTER', 'INFO'], 500).catch(() => ''),
      redisCommand(replicaPort, ['ROLE'], 500).catch(() => null),
    ])
    const now = Date.now()
    const victim = nodes.find((n) => n.id === victimId)
    if (!timeline.failFlaggedAt && victim?.failed) timeline.failFlaggedAt = now
    const state = infoField(info, 'cluster_state')
    if (!timeline.stateFailAt && state === 'fail') timeline.stateFailAt = now
    if (!timeline.promotedAt && Array.isArray(role) && role[0] === 'master') {
      timeline.promotedAt = now
    }
    if (timeline.promotedAt && state === 'ok') {
      timeline.stateOkAt = now
      return
    }
    await sleep(25)
  }
}
