import { readFileSync } from 'node:fs';

/** Reads VmRSS and VmHWM (the kernel's own peak-RSS mark) of a process, in KiB. */
function readRssKiB(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return Math.max(field('VmRSS'), field('VmHWM'));
  } catch {
    return 0; // the process is gone; keep what was seen before
  }
}

/** The current resident memory (VmRSS) of a process, in MiB; 0 when it is gone. */
export function readRssMiB(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/**
 * Peak resident memory of a child process. VmHWM alone would be enough while the process
 * lives, but it vanishes with the process, so it is also sampled every 100 ms: a peak
 * survives a child that dies before the harness asks.
 */
export function watchMemory(pid, intervalMs = 100) {
  let peakKiB = 0;
  const sample = () => {
    peakKiB = Math.max(peakKiB, readRssKiB(pid));
  };
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  sample();
  return {
    /** Peak RSS so far in MiB; reads once more so the latest VmHWM counts. */
    peakMiB() {
      sample();
      return peakKiB / 1024;
    },
    stop() {
      sample();
      clearInterval(timer);
    },
  };
}
