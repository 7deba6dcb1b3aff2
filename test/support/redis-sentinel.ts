import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { freePort } from './free-port.ts';
import { requireRedisServer, startRedisNode, stopRedisNodes, type RedisNode } from './redis-nodes.ts';
import { waitFor } from './wait.ts';

export const SENTINEL_MASTER_NAME = 'reports-master';

export interface SentinelOptions {
  /** Sentinel's down-after-milliseconds: how long a master must be silent before a failover starts. */
  downAfterMs?: number;
  /** Replicas of the master (1 by default). */
  replicas?: number;
}

/** A master, its replicas and three sentinels (quorum 2) on free ports of 127.0.0.1. */
export interface TestRedisSentinel {
  masterName: string;
  /** The REDIS_SENTINELS value that reaches the sentinels. */
  sentinels: string;
  /** The data nodes: the first started as master, the others as its replicas. */
  dataNodes: RedisNode[];
  /** The data node the sentinels name as master right now. */
  currentMaster(): Promise<RedisNode>;
  /** Waits until the sentinels name another master than `previous`, and that node accepts writes. */
  awaitFailover(previous: RedisNode): Promise<RedisNode>;
  /** Waits until `node` replicates the current master with its link up. */
  awaitReplica(node: RedisNode): Promise<void>;
  /**
   * Starts a stopped data node again as a replica of the current master, as a supervisor
   * would bring a crashed one back, and waits until it is in sync. (Started with its first
   * arguments, an old master would wait up to a sentinel's 10-second check to be turned
   * into a replica.)
   */
  restartAsReplica(node: RedisNode): Promise<void>;
  /** Stops every process and removes the files. */
  close(): Promise<void>;
}

/**
 * Starts the data nodes without persistence, waits until the replica is in sync, then the
 * three sentinels, and waits until each knows the replica and the two other sentinels (so
 * that a failover can be agreed on at once). A start that fails stops whatever it started.
 */
export async function startRedisSentinel({ downAfterMs = 2000, replicas = 1 }: SentinelOptions = {}): Promise<TestRedisSentinel> {
  requireRedisServer();
  const dir = mkdtempSync(join(tmpdir(), 'report-jobs-sentinel-'));
  const dataNodes: RedisNode[] = [];
  const sentinelNodes: RedisNode[] = [];
  const clients: Redis[] = [];
  const close = async () => {
    await stopRedisNodes([...sentinelNodes, ...dataNodes], clients);
    rmSync(dir, { recursive: true, force: true });
  };
  const dataArgs = (port: number) => ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  let sentinelAdmins: Redis[] = [];

  const currentMaster = async (): Promise<RedisNode> => {
    const [host, port] = (await sentinelAdmins[0].call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_MASTER_NAME)) as [string, string];
    const master = dataNodes.find((node) => node.address === `${host}:${port}`);
    if (!master) throw new Error(`The sentinels name an unknown master ${host}:${port}`);
    return master;
  };
  const awaitReplica = async (node: RedisNode) => {
    const admin = node.client();
    await waitFor(`${node.address} to replicate the master`, async () => /master_link_status:up/.test(await admin.info('replication')), {
      timeoutMs: 30_000,
    });
  };

  try {
    const masterPort = await freePort();
    dataNodes.push(await startRedisNode(masterPort, dataArgs(masterPort), clients));
    for (let i = 0; i < replicas; i++) {
      const port = await freePort();
      dataNodes.push(await startRedisNode(port, [...dataArgs(port), '--replicaof', '127.0.0.1', String(masterPort)], clients));
    }
    await Promise.all(dataNodes.slice(1).map(awaitReplica));
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      // Each sentinel rewrites its own configuration file as it learns the topology.
      const config = join(dir, `sentinel-${port}.conf`);
      writeFileSync(
        config,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor ${SENTINEL_MASTER_NAME} 127.0.0.1 ${masterPort} 2`,
          `sentinel down-after-milliseconds ${SENTINEL_MASTER_NAME} ${downAfterMs}`,
          `sentinel failover-timeout ${SENTINEL_MASTER_NAME} 10000`,
        ].join('\n') + '\n',
      );
      sentinelNodes.push(await startRedisNode(port, [config, '--sentinel'], clients));
    }
    sentinelAdmins = sentinelNodes.map((node) => node.client());
    await waitFor(
      'every sentinel to know the replica and the other sentinels',
      async () => {
        for (const admin of sentinelAdmins) {
          const known = (await admin.call('SENTINEL', 'REPLICAS', SENTINEL_MASTER_NAME)) as unknown[];
          const others = (await admin.call('SENTINEL', 'SENTINELS', SENTINEL_MASTER_NAME)) as unknown[];
          if (known.length !== replicas || others.length !== 2) return false;
        }
        return true;
      },
      { timeoutMs: 30_000 },
    );
  } catch (error) {
    await close();
    throw error;
  }

  return {
    masterName: SENTINEL_MASTER_NAME,
    sentinels: sentinelNodes.map((node) => node.address).join(','),
    dataNodes,
    currentMaster,
    awaitFailover: async (previous) => {
      const promoted = await waitFor(
        'the sentinels to promote another master',
        async () => {
          const master = await currentMaster();
          return master !== previous && master;
        },
        { timeoutMs: 60_000, intervalMs: 50 },
      );
      const admin = promoted.client();
      await waitFor(`${promoted.address} to accept writes`, async () => /role:master/.test(await admin.info('replication')), {
        timeoutMs: 30_000,
        intervalMs: 50,
      });
      return promoted;
    },
    awaitReplica,
    restartAsReplica: async (node) => {
      const master = await currentMaster();
      await node.start(['--replicaof', master.host, String(master.port)]);
      await awaitReplica(node);
    },
    close,
  };
}
