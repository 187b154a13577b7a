// JSON as the apps send it: a body, a profile or a token payload is checked for being an object before any of its
// keys is read, because `null` and arrays are objects to `typeof` too.
export function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

// An unpaired UTF-16 surrogate: valid in JSON text (`"\ud800"`) and in a JS string, but no Unicode character.
// UTF-8 cannot carry it, so storing it would write U+FFFD in its place: a name the client never sent.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/** Whether a string anywhere in a parsed JSON value (keys included) holds an unpaired surrogate. */
export function hasLoneSurrogate (value: unknown): boolean {
  const stack: unknown[] = [value]
  while (stack.length > 0) {
    const current = stack.pop()
    if (typeof current === 'string') {
      if (LONE_SURROGATE.test(current)) return true
    } else if (typeof current === 'object' && current !== null) {
      for (const [key, child] of Object.entries(current)) {
        if (LONE_SURROGATE.test(key)) return true
        stack.push(child)
      }
    }
  }
  return false
}
