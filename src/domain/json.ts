// JSON as the apps send it: a body, a profile or a token payload is checked for being an object before any of its
// keys is read, because `null` and arrays are objects to `typeof` too.
export function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
