'use server'

import { redirect } from 'next/navigation'
import { session } from '../lib/session'

/** Sign-in form action: a new session id, the user, a one-time notice, then back home. */
export async function login(form: FormData): Promise<void> {
  const name = String(form.get('name') ?? '').trim() || 'anonymous'
  const s = await session()
  await s.regenerate()
  s.user = name
  // flash() writes the cookie with every change so far; await it before redirect() throws.
  await s.flash('notice', `Welcome, ${name}`)
  redirect('/')
}

/** Sign-out form action. */
export async function logout(): Promise<void> {
  await session().destroy()
  redirect('/')
}
