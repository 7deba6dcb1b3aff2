/**
 * The `wait` preference of an RFC 7240 Prefer header, in seconds ("Prefer: wait=10",
 * possibly among other preferences). Preferences that cannot be understood are ignored,
 * as the RFC asks.
 */
export function preferredWaitSeconds(header: string | string[] | undefined): number | undefined {
  for (const value of [header ?? []].flat()) {
    for (const preference of value.split(',')) {
      const match = /^\s*wait\s*=\s*"?(\d{1,6})"?\s*(;.*)?$/i.exec(preference);
      if (match) return Number(match[1]);
    }
  }
  return undefined;
}
