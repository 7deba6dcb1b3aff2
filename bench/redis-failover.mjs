#!/usr/bin/env node
/**
 * What a Sentinel failover costs clients, with and without REDIS_MIN_REPLICAS_ACK. Each
 * run starts a master, its replicas and three sentinels (test/support/redis-sentinel.ts,
 * down-after-milliseconds 2000), the built API and two workers; eight lanes submit
 * zero-delay jobs as fast as they are answered; after 3 s the master is SIGKILLed. With
 * one replica, once the sentinels have promoted it, the dead node is started again as a
 * replica of the new master (as a supervisor would); with two, the other replica follows
 * the new master by itself. The stream goes on for 3 s of 202s after that. Then every
 * acknowledged job's status is read: a 404 is a job that got a 202 and was lost with the
 * master. Set-ups: acknowledgement off and on with one replica, on with two; and off and
 * on with one replica that lags: it is stalled (SIGSTOP) for a second before the master
 * dies and resumes right after, as a replica behind a network hiccup or a slow disk would
 * be, so that the master holds a second of writes no replica has.
 *
 *   npm run build
 *   node --disable-warning=MODULE_TYPELESS_PACKAGE_JSON bench/redis-failover.mjs [--runs 3] [--lagging both|no|only]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { startRedisSentinel } from '../test/support/redis-sentinel.ts';
import { startBuiltApp } from './lib/built-apps.mjs';
import { stopAll } from './lib/processes.mjs';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '3' }, lanes: { type: 'string', default: '8' }, lagging: { type: 'string', default: 'both' } },
});
const runs = Number(values.runs);
const lanes = Number(values.lanes);
const logDir = mkdtempSync(join(tmpdir(), 'report-jobs-failover-'));

async function submit(url, body) {
  const sentAt = Date.now();
  try {
    const response = await fetch(`${url}/api/jobs/reports`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(5_000),
    });
    return { sentAt, answeredAt: Date.now(), status: response.status, body: await response.json() };
  } catch (error) {
    return { sentAt, answeredAt: Date.now(), status: 0, error: error.message };
  }
}

async function failoverRun({ ack, replicas, lagMs = 0 }, run) {
  const sentinel = await startRedisSentinel({ downAfterMs: 2000, replicas });
  try {
    const redisEnv = { REDIS_SENTINELS: sentinel.sentinels, REDIS_SENTINEL_MASTER: sentinel.masterName, WORKER_LOCK_DURATION_MS: '2000' };
    const tag = `ack${ack}-replicas${replicas}-lag${lagMs}-run${run}`;
    const api = await startBuiltApp('api', { ...redisEnv, REDIS_MIN_REPLICAS_ACK: String(ack) }, { name: `api-${tag}`, logDir });
    await Promise.all([1, 2].map((i) => startBuiltApp('worker', redisEnv, { name: `worker-${i}-${tag}`, logDir })));

    const answers = [];
    let streaming = true;
    const stream = async (lane) => {
      for (let i = 0; streaming; i++) answers.push(await submit(api.url, { customer_id: `lane-${lane}-${i}`, delay_seconds: 0 }));
    };
    const running = Array.from({ length: lanes }, (_, lane) => stream(lane));
    await sleep(3_000);
    const master = await sentinel.currentMaster();
    const lagging = sentinel.dataNodes.find((node) => node !== master);
    const stalledAt = Date.now();
    if (lagMs > 0) {
      lagging.pause();
      await sleep(lagMs);
    }
    const killedAt = Date.now();
    await master.kill();
    if (lagMs > 0) lagging.resume();
    await sentinel.awaitFailover(master);
    const promotedAt = Date.now();
    if (replicas === 1) await sentinel.restartAsReplica(master);
    const replicaBackAt = Date.now();
    const acceptedAfter = (time) => answers.filter((answer) => answer.status === 202 && answer.sentAt > time);
    while (acceptedAfter(replicaBackAt).length === 0 || Date.now() - acceptedAfter(replicaBackAt)[0].sentAt < 3_000) await sleep(100);
    streaming = false;
    await Promise.all(running);

    const refused = answers.filter((answer) => answer.status !== 202);
    const acknowledged = answers.filter((answer) => answer.status === 202);
    const lost = [];
    for (const answer of acknowledged) {
      const status = await fetch(answer.body.statusQueryGetUri, { signal: AbortSignal.timeout(5_000) });
      await status.arrayBuffer();
      if (status.status === 404) lost.push(answer.body.instanceId);
    }
    const firstAcceptedAfterKill = acceptedAfter(killedAt)[0];
    return {
      ack,
      replicas,
      lagMs,
      run,
      promotedMs: promotedAt - killedAt,
      windowMs: refused.length > 0 ? refused.at(-1).answeredAt - refused[0].sentAt : 0,
      firstAcceptedMs: firstAcceptedAfterKill.sentAt - killedAt,
      acknowledged: acknowledged.length,
      acknowledgedNearKill: acknowledged.filter((answer) => Math.abs(answer.answeredAt - killedAt) < 1_000).length,
      // Acknowledged while the stalled replica could not have them: lost if the master's host had died.
      acknowledgedWhileStalled: lagMs > 0 ? acknowledged.filter((answer) => answer.sentAt >= stalledAt && answer.answeredAt <= killedAt).length : undefined,
      refused: refused.length,
      mayExist: refused.filter((answer) => /may have been queued/.test(answer.body?.detail ?? '')).length,
      otherFailures: refused.filter((answer) => answer.status !== 503).length,
      lost: lost.length,
    };
  } finally {
    await stopAll();
    await sentinel.close();
  }
}

const SETUPS = [
  { ack: 0, replicas: 1 },
  { ack: 1, replicas: 1 },
  { ack: 1, replicas: 2 },
  { ack: 0, replicas: 1, lagMs: 1000 },
  { ack: 1, replicas: 1, lagMs: 1000 },
].filter((setup) => values.lagging === 'both' || (values.lagging === 'only') === Boolean(setup.lagMs));
const results = [];
for (const setup of SETUPS) {
  for (let run = 1; run <= runs; run++) {
    const result = await failoverRun(setup, run);
    results.push(result);
    console.error(JSON.stringify(result));
  }
}
console.log(
  '| REDIS_MIN_REPLICAS_ACK | replicas | replica stalled before the kill | run | replica promoted after kill | 503 window | first 202 after kill | ' +
    'jobs acknowledged (in the second around the kill; while the replica was stalled) | refused (of them "may have been queued") | acknowledged jobs lost |',
);
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of results) {
  console.log(
    `| ${r.ack} | ${r.replicas} | ${r.lagMs ? `${r.lagMs / 1000} s` : '—'} | ${r.run} | ${(r.promotedMs / 1000).toFixed(1)} s | ${(r.windowMs / 1000).toFixed(1)} s | ${(r.firstAcceptedMs / 1000).toFixed(1)} s | ` +
      `${r.acknowledged} (${r.acknowledgedNearKill}${r.acknowledgedWhileStalled === undefined ? '' : `; ${r.acknowledgedWhileStalled}`}) | ${r.refused} (${r.mayExist})${r.otherFailures ? `, ${r.otherFailures} not 503` : ''} | ${r.lost} |`,
  );
}
console.log(`\nlogs: ${logDir}`);
