import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { watchMemory } from './memory.mjs';

/** Every child still alive, so that nothing outlives the harness, whatever happens. */
const running = new Set();

// Last resort when the harness exits without its cleanup having run (an uncaught error
// in a callback, process.exit elsewhere): 'exit' handlers must be synchronous, hence KILL.
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts a child with stdout and stderr going straight to a log file: the harness is
 * also the load generator, so it should not spend CPU reading the children's logs.
 */
export function startProcess({ name, command, args, env, logFile }) {
  const fd = openSync(logFile, 'w');
  let child;
  try {
    child = spawn(command, args, { env, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd); // the child holds its own descriptor
  }
  let spawnError;
  child.once('error', (error) => (spawnError = error));
  running.add(child);
  child.once('exit', () => running.delete(child));
  const memory = watchMemory(child.pid);
  return {
    name,
    child,
    logFile,
    memory,
    /** Why the process is not running, or undefined while it is. */
    deadReason() {
      if (spawnError) return `could not start ${command}: ${spawnError.message}`;
      if (child.exitCode !== null) return `exited with code ${child.exitCode}`;
      if (child.signalCode !== null) return `was killed by ${child.signalCode}`;
      return undefined;
    },
    logTail: (lines = 20) => tail(logFile, lines),
    async stop() {
      memory.stop();
      await stopChild(child);
    },
  };
}

function tail(file, lines) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** SIGTERM for a graceful exit (workers finish active jobs), SIGKILL if that takes too long. */
async function stopChild(child, graceMs = 10_000) {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export async function stopAll() {
  await Promise.all([...running].map((child) => stopChild(child)));
}

/**
 * Polls `probe` until it returns true. A readiness signal replaces any fixed sleep; the
 * process dying meanwhile fails at once with the end of its log.
 */
export async function waitUntil(proc, what, probe, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  while (Date.now() < deadline) {
    const dead = proc.deadReason();
    if (dead) throw new Error(`${proc.name} ${dead} before ${what}; end of ${proc.logFile}:\n${proc.logTail()}`);
    try {
      if (await probe()) return;
    } catch (error) {
      lastError = error;
    }
    await sleep(25);
  }
  const reason = lastError ? ` (last error: ${lastError.message})` : '';
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} of ${proc.name}${reason}`);
}

/** Waits for GET <baseUrl>/health/ready to answer 200. */
export function waitReady(proc, baseUrl) {
  return waitUntil(proc, 'being ready', async () => {
    const response = await fetch(`${baseUrl}/health/ready`, { signal: AbortSignal.timeout(1_000) });
    await response.arrayBuffer();
    return response.status === 200;
  });
}
