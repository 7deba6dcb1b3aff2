import autocannon from 'autocannon';
import { LOAD } from './options.mjs';
import { CLIENT_HEADERS } from './systems.mjs';

/**
 * One bounded autocannon run from inside the harness process. On this kind of machine
 * the load generator shares the CPU cores with the server and Redis, so figures are
 * comparable between systems measured the same way, not absolute capacities.
 */
export async function runLoad({ url, method = 'GET', body, seconds }) {
  const result = await autocannon({
    url,
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: body === undefined ? CLIENT_HEADERS : { ...CLIENT_HEADERS, 'content-type': 'application/json' },
    connections: LOAD.connections,
    pipelining: LOAD.pipelining,
    duration: seconds,
  });
  if (result['2xx'] === 0) {
    throw new Error(
      `${method} ${url}: no 2xx answer in ${seconds} s ` +
        `(errors ${result.errors}, timeouts ${result.timeouts}, non-2xx ${result.non2xx})`,
    );
  }
  return {
    reqPerSec: result.requests.average,
    // autocannon keeps latencies in whole milliseconds.
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}
