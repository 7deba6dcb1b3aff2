import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { waitFor } from './wait.ts';

// The redis-server processes the topology starters (redis-cluster.ts, redis-sentinel.ts)
// run. Written with erasable TypeScript only and explicit .ts imports, so that the
// benchmark scripts (plain Node) can import the starters as well as the tests.

/** Every redis-server started here and still running: none may outlive the process that started it. */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** One redis-server process (a data node or a sentinel) that can be killed and started again with the same arguments. */
export interface RedisNode {
  host: string;
  port: number;
  /** Its address as host:port. */
  address: string;
  isRunning(): boolean;
  /** SIGKILL: the crash of a host, with nothing flushed. */
  kill(): Promise<void>;
  /** SIGSTOP, then SIGCONT: a node that stalls (a slow disk, a network hiccup) and comes back as it was. */
  pause(): void;
  resume(): void;
  /** Starts it again as it was first started (plus `extraArgs`), and waits until it answers PING. */
  start(extraArgs?: string[]): Promise<void>;
  /** A client of its own (closed by closeClients). */
  client(): Redis;
}

export function requireRedisServer(): void {
  for (const tool of ['redis-server', 'redis-cli']) {
    if (spawnSync(tool, ['--version']).error) {
      throw new Error(`${tool} is not on PATH: install Redis (Debian: apt-get install redis-server)`);
    }
  }
}

/**
 * Starts `redis-server` with `args` on 127.0.0.1:`port` and waits for its PING. The
 * process is the test's own child (not daemonized), so that it can be killed by id.
 */
export async function startRedisNode(port: number, args: string[], clients: Redis[]): Promise<RedisNode> {
  let child: ChildProcess | undefined;
  const address = `127.0.0.1:${port}`;
  const node: RedisNode = {
    host: '127.0.0.1',
    port,
    address,
    isRunning: () => child !== undefined && child.exitCode === null && child.signalCode === null,
    kill: async () => {
      const stopping = child;
      if (!stopping || stopping.exitCode !== null || stopping.signalCode !== null) return;
      const exited = new Promise((resolve) => stopping.once('exit', resolve));
      stopping.kill('SIGKILL');
      await exited;
    },
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
    start: async (extraArgs: string[] = []) => {
      const started = spawn('redis-server', [...args, ...extraArgs], { stdio: 'ignore' });
      child = started;
      running.add(started);
      started.once('exit', () => running.delete(started));
      const probe = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
      probe.on('error', () => undefined);
      try {
        await waitFor(`redis-server on ${address} to answer PING`, async () => {
          if (started.exitCode !== null) throw new Error(`redis-server on ${address} exited with code ${started.exitCode}`);
          return (await probe.ping()) === 'PONG';
        });
      } finally {
        probe.disconnect();
      }
    },
    client: () => {
      const client = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 });
      client.on('error', () => undefined);
      clients.push(client);
      return client;
    },
  };
  await node.start();
  return node;
}

/** Kills every node given, closes the clients, and waits for the processes to be gone. */
export async function stopRedisNodes(nodes: RedisNode[], clients: Redis[]): Promise<void> {
  for (const client of clients.splice(0)) client.disconnect();
  await Promise.all(nodes.map((node) => node.kill()));
}

/** Runs redis-cli with `args`; rejects with its output when it fails. */
export function redisCli(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const cli = spawn('redis-cli', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    cli.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    cli.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    cli.once('error', reject);
    cli.once('exit', (code) => (code === 0 ? resolve(output) : reject(new Error(`redis-cli ${args.join(' ')} failed (${code}):\n${output}`))));
  });
}
