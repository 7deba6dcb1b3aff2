#!/usr/bin/env node
import { runCli } from './program';

// The report-jobs command. Ctrl-C stops a wait at once (the pending request is aborted)
// and leaves the terminal as it was.
const interrupt = new AbortController();
process.once('SIGINT', () => interrupt.abort(new Error('interrupted')));

void runCli(process.argv, { stdout: process.stdout, stderr: process.stderr }, interrupt.signal).then((code) => {
  process.exitCode = code;
});
