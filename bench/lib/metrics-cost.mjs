import { alternate, medianRun } from './alternate.mjs';
import { runLoad } from './http-load.mjs';
import { ZERO_DELAY_INPUT } from './jobs.mjs';
import { CLIENT_HEADERS, startApi } from './systems.mjs';


/**
 * What ours' Prometheus metrics cost: two API processes side by side on the same Redis,
 * one with metrics on (the default) and one with METRICS_PORT=0, loaded in turn, `rounds`
 * runs each, alternating so that a drift of the machine hits both alike. Answers the
 * median req/s of each, for the status GET and for POST.
 */
export async function measureMetricsCost({ system, redis, logDir, rounds, seconds }) {
  await redis.reset();
  const withMetrics = await startApi(system, redis.url, logDir, { tag: 'metrics-on' });
  const without = await startApi(system, redis.url, logDir, { metrics: false, tag: 'metrics-off' });
  try {
    const created = await fetch(`${withMetrics.url}/api/jobs/reports`, {
      method: 'POST',
      headers: { ...CLIENT_HEADERS, 'content-type': 'application/json' },
      body: JSON.stringify(ZERO_DELAY_INPUT),
    });
    const { instanceId } = await created.json();
    const result = {};
    for (const [name, request] of [
      ['get', (api) => ({ url: `${api.url}/api/jobs/reports/${instanceId}` })],
      ['post', (api) => ({ url: `${api.url}/api/jobs/reports`, method: 'POST', body: ZERO_DELAY_INPUT })],
    ]) {
      for (const api of [withMetrics, without]) await runLoad({ ...request(api), seconds: 1 }); // warm-up
      const runs = await alternate([withMetrics, without], rounds, (api) => runLoad({ ...request(api), seconds }));
      result[name] = { on: medianRun(runs.get(withMetrics), 'reqPerSec').reqPerSec, off: medianRun(runs.get(without), 'reqPerSec').reqPerSec };
    }
    return result;
  } finally {
    await Promise.all([withMetrics.stop(), without.stop()]);
  }
}
