import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, type Redis } from 'ioredis';
import { freePort } from './free-port.ts';
import { redisCli, requireRedisServer, startRedisNode, stopRedisNodes, type RedisNode } from './redis-nodes.ts';
import { waitFor } from './wait.ts';

/** A Redis Cluster of masters without replicas on free ports of 127.0.0.1, made with redis-cli --cluster create. */
export interface TestRedisCluster {
  masters: RedisNode[];
  /** The REDIS_CLUSTER_NODES value that reaches it. */
  seeds: string;
  /** A cluster client of its own (closed by close()). */
  client(): Cluster;
  /** The master serving a slot. */
  masterOf(slot: number): RedisNode;
  /** Empties every master (reused job ids would otherwise be silently ignored by BullMQ). */
  flush(): Promise<void>;
  /** Stops every node and removes its files. */
  close(): Promise<void>;
}

/**
 * Starts `masters` redis-server nodes in cluster mode (each with a free data port and a
 * free cluster-bus port), joins them with `redis-cli --cluster create`, which splits the
 * 16384 slots into equal ranges in node order, and waits until every node sees the whole
 * cluster in state ok. A start that fails stops whatever it started.
 */
export async function startRedisCluster({ masters = 3 } = {}): Promise<TestRedisCluster> {
  requireRedisServer();
  const dir = mkdtempSync(join(tmpdir(), 'report-jobs-cluster-'));
  const nodes: RedisNode[] = [];
  const clients: Redis[] = [];
  const clusterClients: Cluster[] = [];
  const close = async () => {
    for (const client of clusterClients.splice(0)) client.disconnect();
    await stopRedisNodes(nodes, clients);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < masters; i++) {
      const [port, busPort] = [await freePort(), await freePort()];
      const nodeDir = join(dir, String(port));
      mkdirSync(nodeDir);
      const args = ['--port', String(port), '--cluster-port', String(busPort), '--bind', '127.0.0.1', '--cluster-enabled', 'yes'];
      args.push('--cluster-config-file', join(nodeDir, 'nodes.conf'), '--cluster-node-timeout', '5000');
      args.push('--save', '', '--appendonly', 'no', '--dir', nodeDir);
      nodes.push(await startRedisNode(port, args, clients));
    }
    await redisCli(['--cluster', 'create', ...nodes.map((node) => node.address), '--cluster-replicas', '0', '--cluster-yes']);
    const admins = nodes.map((node) => node.client());
    await waitFor(
      'every node to see the cluster ok, all slots served',
      async () => {
        for (const admin of admins) {
          const info = await admin.cluster('INFO');
          if (!/cluster_state:ok/.test(info) || !new RegExp(`cluster_known_nodes:${masters}\\b`).test(info)) return false;
          if (!/cluster_slots_ok:16384/.test(info)) return false;
        }
        return true;
      },
      { timeoutMs: 30_000 },
    );
  } catch (error) {
    await close();
    throw error;
  }

  const slotRanges = async () => {
    const slots = await nodes[0].client().cluster('SLOTS');
    return slots.map(([from, to, [host, port]]) => ({ from, to, address: `${host}:${port}` }));
  };
  const ranges = await slotRanges();
  return {
    masters: nodes,
    seeds: nodes.map((node) => node.address).join(','),
    client: () => {
      const client = new Cluster(nodes.map(({ host, port }) => ({ host, port })), { redisOptions: { maxRetriesPerRequest: 1 } });
      client.on('error', () => undefined);
      clusterClients.push(client);
      return client;
    },
    masterOf: (slot) => {
      const range = ranges.find(({ from, to }) => slot >= from && slot <= to);
      return nodes.find((node) => node.address === range?.address)!;
    },
    flush: async () => {
      await Promise.all(nodes.map((node) => node.client().flushall()));
    },
    close,
  };
}
