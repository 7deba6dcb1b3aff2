/**
 * Runs `measure(side, round)` for every side `rounds` times, alternating (first side, second
 * side, first, …), so that a drift of the shared machine (other tenants, CPU frequency)
 * hits every side alike. Answers each side's runs in order.
 */
export async function alternate(sides, rounds, measure) {
  const runs = new Map(sides.map((side) => [side, []]));
  for (let round = 0; round < rounds; round++) {
    for (const side of sides) runs.get(side).push(await measure(side, round));
  }
  return runs;
}

/** The run with the median of `key` (the upper one of an even count). */
export function medianRun(runs, key) {
  return [...runs].sort((a, b) => a[key] - b[key])[runs.length >> 1];
}
