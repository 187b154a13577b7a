// Every boolean the legacy wire carried, in a JSON body, a form field or a query parameter (`?stream=`), was a
// pydantic v2 `bool`, read in its lax mode: the same spellings are accepted here, and nothing else. Probed against the
// legacy server: `1`, `1.0`, "TRUE", "yes", "on", "t" are true; `0`, "off", "n" false; `2`, `1.5`, " true ",
// "enable" and null are refused with a 422.
const TRUE = new Set(['1', 'on', 't', 'true', 'y', 'yes'])
const FALSE = new Set(['0', 'off', 'f', 'false', 'n', 'no'])

/** The boolean `value` spells as pydantic's lax `bool` reads it, or undefined when it spells none. */
export function wireBool (value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value
  if (typeof value === 'number') return value === 1 ? true : value === 0 ? false : undefined
  if (typeof value !== 'string') return undefined
  const text = value.toLowerCase()
  return TRUE.has(text) ? true : FALSE.has(text) ? false : undefined
}
