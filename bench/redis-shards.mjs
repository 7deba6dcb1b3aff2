#!/usr/bin/env node
/**
 * What sharding buys on a Redis Cluster of three masters: POST and worker throughput
 * with QUEUE_SHARDS=1 and 3. Each setting gets a fresh cluster
 * (test/support/redis-cluster.ts), the built API and workers in production mode:
 *
 * 1. POST: autocannon, 50 connections, zero-delay jobs, no worker running (a warm-up,
 *    then `--seconds` measured): req/s, and the jobs that leaves queued.
 * 2. Workers: the shards' queues are paused, `--workers` processes started and awaited,
 *    the queues resumed; the clock runs from the resume to the last job's finishedOn,
 *    over all shards, and per shard (the drain time of each, which shows whether the
 *    workers serve the shards evenly).
 * 3. The CPU each master spent in each phase (INFO cpu), which shows where the work went,
 *    and the Redis memory each queued job takes (INFO memory, all masters, before the API
 *    started and once the jobs were queued).
 *
 *   npm run build
 *   node --disable-warning=MODULE_TYPELESS_PACKAGE_JSON bench/redis-shards.mjs [--seconds 15] [--workers 2]
 */
import autocannon from 'autocannon';
import { Queue } from 'bullmq';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { startRedisCluster } from '../test/support/redis-cluster.ts';
import { builtQueueLibrary, startBuiltApp } from './lib/built-apps.mjs';
import { stopAll } from './lib/processes.mjs';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '15' }, workers: { type: 'string', default: '2' } } });
const seconds = Number(values.seconds);
const workerCount = Number(values.workers);
const logDir = mkdtempSync(join(tmpdir(), 'report-jobs-shards-'));
const PREFIX = '{report-jobs}';
const { shardPrefixes, keySlot } = await builtQueueLibrary();

/** CPU seconds (user + system) each master has used so far, by address. */
async function masterCpu(cluster) {
  const entries = await Promise.all(
    cluster.masters.map(async (node) => {
      const info = await node.client().info('cpu');
      const value = (name) => Number(new RegExp(`^${name}:(\\S+)`, 'm').exec(info)?.[1] ?? 0);
      return [node.address, value('used_cpu_user') + value('used_cpu_sys')];
    }),
  );
  return Object.fromEntries(entries);
}

/** Bytes of Redis memory in use, summed over the masters. */
async function usedMemory(cluster) {
  const used = await Promise.all(cluster.masters.map(async (node) => Number(/^used_memory:(\d+)/m.exec(await node.client().info('memory'))[1])));
  return used.reduce((sum, bytes) => sum + bytes, 0);
}

const cpuSpent = (before, after) => Object.values(after).map((value, i) => value - Object.values(before)[i]);

async function postLoad(url, duration) {
  const result = await autocannon({
    url: `${url}/api/jobs/reports`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ customer_id: 'bench-shards', delay_seconds: 0 }),
    connections: 50,
    duration,
  });
  return { reqPerSec: result.requests.average, non2xx: result.non2xx, errors: result.errors };
}

async function measure(shardCount) {
  const cluster = await startRedisCluster({ masters: 3 });
  const prefixes = shardPrefixes(PREFIX, shardCount);
  const admin = cluster.client();
  const queues = prefixes.map((prefix) => new Queue('reports', { connection: admin, prefix }));
  try {
    const env = { REDIS_CLUSTER_NODES: cluster.seeds, QUEUE_PREFIX: PREFIX, QUEUE_SHARDS: String(shardCount) };
    const emptyMemory = await usedMemory(cluster);
    const api = await startBuiltApp('api', env, { name: `api-${shardCount}-shards`, logDir });
    await postLoad(api.url, 2);
    const beforePosts = await masterCpu(cluster);
    const post = await postLoad(api.url, seconds);
    const afterPosts = await masterCpu(cluster);
    await api.stop();

    const waiting = await Promise.all(queues.map((queue) => admin.llen(queue.keys.wait)));
    const jobs = waiting.reduce((sum, count) => sum + count, 0);
    const bytesPerJob = Math.round(((await usedMemory(cluster)) - emptyMemory) / jobs);
    await Promise.all(queues.map((queue) => queue.pause()));
    await Promise.all(
      Array.from({ length: workerCount }, (_, i) => startBuiltApp('worker', env, { name: `worker-${shardCount}-shards-${i + 1}`, logDir })),
    );
    const beforeWork = await masterCpu(cluster);
    const startedAt = Date.now();
    await Promise.all(queues.map((queue) => queue.resume()));
    for (;;) {
      const done = await Promise.all(queues.map((queue) => admin.zcard(queue.keys.completed)));
      const failed = await Promise.all(queues.map((queue) => admin.zcard(queue.keys.failed)));
      if (failed.some((count) => count > 0)) throw new Error(`jobs failed with ${shardCount} shard(s)`);
      if (done.reduce((sum, count) => sum + count, 0) >= jobs) break;
      await sleep(50);
    }
    const afterWork = await masterCpu(cluster);
    const drained = await Promise.all(
      queues.map(async (queue) => (Number((await admin.zrange(queue.keys.completed, -1, -1, 'WITHSCORES'))[1]) - startedAt) / 1000),
    );
    const workSeconds = Math.max(...drained);
    return {
      shards: shardCount,
      masters: prefixes.map((prefix) => cluster.masterOf(keySlot(prefix)).address),
      postReqPerSec: Math.round(post.reqPerSec),
      postFailures: post.non2xx + post.errors,
      jobs,
      jobsPerShard: waiting,
      bytesPerJob,
      workerJobsPerSec: Math.round(jobs / workSeconds),
      drainSeconds: drained.map((value) => Number(value.toFixed(2))),
      masterCpuDuringPosts: cpuSpent(beforePosts, afterPosts).map((value) => Number(value.toFixed(1))),
      masterCpuDuringWork: cpuSpent(beforeWork, afterWork).map((value) => Number(value.toFixed(1))),
    };
  } finally {
    await stopAll();
    await Promise.all(queues.map((queue) => queue.close().catch(() => undefined)));
    await cluster.close();
  }
}

const results = [];
for (const shards of [1, 3]) {
  const result = await measure(shards);
  results.push(result);
  console.error(JSON.stringify(result));
}
console.log(`3-master Redis Cluster, ${workerCount} worker process(es) at WORKER_CONCURRENCY 10, POST ${seconds} s at 50 connections\n`);
console.log(
  '| QUEUE_SHARDS | POST req/s | jobs queued (per shard) | Redis memory per queued job | worker jobs/s | drain time per shard | master CPU s during POSTs | during work |',
);
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of results) {
  console.log(
    `| ${r.shards} | ${r.postReqPerSec}${r.postFailures ? ` (${r.postFailures} failed)` : ''} | ${r.jobs} (${r.jobsPerShard.join(' / ')}) | ${r.bytesPerJob} B | ` +
      `${r.workerJobsPerSec} | ${r.drainSeconds.map((s) => `${s} s`).join(' / ')} | ${r.masterCpuDuringPosts.join(' / ')} | ${r.masterCpuDuringWork.join(' / ')} |`,
  );
}
console.log(`\nlogs: ${logDir}`);
