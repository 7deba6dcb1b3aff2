// `npm run start:dev`: the API and a worker side by side, each rebuilt and restarted by
// the Nest CLI when its sources change. Ctrl-C stops both.
import { spawn } from 'node:child_process';

const apps = ['api', 'worker'];
const children = apps.map((app) =>
  spawn('npx', ['nest', 'start', app, '--watch', '--preserveWatchOutput'], { stdio: 'inherit' }),
);
const stop = () => children.forEach((child) => child.kill('SIGTERM'));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
for (const child of children) child.on('exit', (code) => code && code !== 0 && stop());
