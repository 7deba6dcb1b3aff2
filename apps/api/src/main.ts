import './tracing';
import 'reflect-metadata';
import { validateEnvironment } from '@report-jobs/config';
import { createApiApp } from './create-api-app';

async function main(): Promise<void> {
  // The HTTP adapter needs a few settings before Nest's own (identical) validation runs.
  const env = validateEnvironment(process.env);
  const app = await createApiApp(env);
  await app.listen(env.PORT, env.HOST);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
