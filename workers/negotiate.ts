// The two conditional and negotiated parts of a GET that clients and proxies really send, read as RFC 9110 says,
// not as the common case looks: a proxy may weaken an ETag (`W/"…"`), a client may send a list or `*`, and
// `Accept-Encoding: br;q=0` means "not brotli", not "brotli".

// RFC 9110 §13.1.2: If-None-Match uses the weak comparison, so `W/"x"` matches `"x"`; `*` matches any current
// representation (the caller has one when it asks). A malformed member matches nothing.
export function etagMatches (ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false
  const value = ifNoneMatch.trim()
  if (value === '*') return true
  const opaque = etag.startsWith('W/') ? etag.slice(2) : etag
  for (const member of value.split(',')) {
    const tag = member.trim()
    if ((tag.startsWith('W/') ? tag.slice(2) : tag) === opaque) return true
  }
  return false
}

export type Coding = 'br' | 'gzip' | 'identity'

// RFC 9110 §12.5.3: the coding of highest weight among those on offer, preferring the smaller output on a tie
// (brotli, then gzip, then none). An unlisted coding takes `*`'s weight, else none, except identity, which is
// acceptable unless refused by `identity;q=0` or by `*;q=0` without an entry of its own, and then comes last (a client
// that lists only `gzip;q=0.5` still wants gzip). When every coding on offer
// is refused, the body goes out unencoded anyway: the RFC allows it, and a 406 would only break the client.
// Without the header, no coding is used: a client that says nothing may not decode one (a curl without
// --compressed).
export function chooseEncoding (acceptEncoding: string | undefined, offered: { br: boolean, gzip: boolean }): Coding {
  if (acceptEncoding === undefined) return 'identity'
  // Clients send a handful of distinct headers ("gzip", "gzip, deflate, br"), each on every request: parsed once.
  const memoKey = `${offered.br ? 'b' : '-'}${offered.gzip ? 'g' : '-'}${acceptEncoding}`
  let coding = chosen.get(memoKey)
  if (coding === undefined) {
    if (chosen.size >= MAX_CHOSEN) chosen.clear()
    chosen.set(memoKey, coding = parseAndChoose(acceptEncoding, offered))
  }
  return coding
}

const chosen = new Map<string, Coding>()
const MAX_CHOSEN = 256

function parseAndChoose (acceptEncoding: string, offered: { br: boolean, gzip: boolean }): Coding {
  const weights = new Map<string, number>()
  for (const member of acceptEncoding.split(',')) {
    const [name = '', ...params] = member.split(';').map((part) => part.trim())
    if (name === '') continue
    // A weight that is not one (`q=abc`) drops its member: it cannot be read as a yes.
    let weight: number | null = 1
    for (const param of params) {
      if (!/^q\s*=/i.test(param)) continue
      const match = /^q\s*=\s*([01](?:\.\d{0,3})?)$/i.exec(param)
      weight = match === null ? null : Math.min(1, Number(match[1]))
    }
    if (weight !== null) weights.set(name.toLowerCase(), weight)
  }
  const any = weights.get('*')
  const weightOf = (coding: Coding): number => weights.get(coding) ?? (coding === 'identity' ? (any === 0 ? 0 : Number.MIN_VALUE) : any ?? 0)
  let best: Coding = 'identity'
  let bestWeight = 0
  for (const coding of ['br', 'gzip', 'identity'] as const) {
    if (coding !== 'identity' && !offered[coding]) continue
    const weight = weightOf(coding)
    if (weight > bestWeight) {
      best = coding
      bestWeight = weight
    }
  }
  return best
}
