// The browser the browser tests drive: the system's Chromium (Debian's `chromium` package)
// through playwright-core, which downloads no browser of its own. A missing binary is an error
// that names the install command, never a skip.
import { existsSync } from 'node:fs'
import {
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  chromium,
} from 'playwright-core'

const INSTALL = 'apt-get install -y chromium'
const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']

/** Every wait in a page (selector, navigation, load) gives up after this many milliseconds. */
export const PAGE_TIMEOUT_MS = 30_000

/** The Chromium binary: `CHROMIUM_PATH`, else the first of the usual system paths. */
export function chromiumPath(): string {
  const chosen = process.env.CHROMIUM_PATH
  if (chosen && !existsSync(chosen)) throw new Error(`CHROMIUM_PATH=${chosen}: no such file`)
  const path = chosen || CANDIDATES.find((p) => existsSync(p))
  if (!path) {
    throw new Error(
      `Chromium is not installed; the browser tests drive the system's Chromium. Install it with: ${INSTALL}` +
        ' (Debian/Ubuntu), or set CHROMIUM_PATH to a Chromium or Chrome binary',
    )
  }
  return path
}

/**
 * Starts headless Chromium. Playwright passes `--no-sandbox` (its default), which Chromium needs
 * when it runs as root, as CI does here; the pages it opens are our own loopback servers.
 */
export function launch(args: string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), args, timeout: 30_000 })
}

/** A fresh profile (its own cookie jar) whose every wait is bounded by `PAGE_TIMEOUT_MS`. */
export async function newContext(
  browser: Browser,
  options: BrowserContextOptions = {},
): Promise<BrowserContext> {
  const context = await browser.newContext(options)
  context.setDefaultTimeout(PAGE_TIMEOUT_MS)
  context.setDefaultNavigationTimeout(PAGE_TIMEOUT_MS)
  return context
}
