'use client'

import Link from 'next/link'
import { useState } from 'react'

export function LaterLink() {
  const [saved, setSaved] = useState(false)
  return saved ? (
    <Link href="/">Back home</Link>
  ) : (
    <button
      type="button"
      onClick={async () => {
        await fetch('/api/notice', { method: 'POST' })
        setSaved(true)
      }}
    >
      Save
    </button>
  )
}
