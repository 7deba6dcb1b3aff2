import { Command, CommanderError, InvalidArgumentError, Option } from '@commander-js/extra-typings';
import {
  isFinal,
  NotFoundError,
  REPORT_OPERATIONS,
  ReportJobsClient,
  RUNTIME_STATUSES,
  type FinalStatus,
  type RuntimeStatus,
} from '@report-jobs/client';
import { describeError } from './describe-error';
import { EXIT, EXIT_CODES_HELP, exitCodeOfError, exitCodeOfStatus } from './exit-codes';
import { describeEnd, describeProgress, jobDisplay, type JobDisplay, type Output } from './job-display';

const DEFAULT_URL = 'http://localhost:3000';
/** Exit code of a command stopped by Ctrl-C (128 + SIGINT), as shells report it. */
const INTERRUPTED = 130;

const ENVIRONMENT_HELP = `
Environment:
  REPORT_JOBS_URL      the API's base URL (default ${DEFAULT_URL}); --url overrides it
  REPORT_JOBS_API_KEY  the API key, sent as a Bearer token; --api-key overrides it`;

interface Connection {
  url: string;
  apiKey?: string;
  json?: boolean;
}

function wholeSeconds(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('not a whole number of seconds.');
  return Number(value);
}

function positiveInteger(value: string): number {
  if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError('not a positive whole number.');
  return Number(value);
}

function runtimeStatuses(value: string, previous: RuntimeStatus[] = []): RuntimeStatus[] {
  const statuses = value.split(',').map((name) => {
    const status = RUNTIME_STATUSES.find((known) => known.toLowerCase() === name.trim().toLowerCase());
    if (status === undefined) throw new InvalidArgumentError(`one of ${RUNTIME_STATUSES.join(', ')} (comma-separated).`);
    return status;
  });
  return [...previous, ...statuses];
}

/**
 * Runs the report-jobs command line and answers its exit code. Output goes to `out`
 * only; errors print the service's problem detail (and request id), never a stack.
 */
export async function runCli(argv: string[], out: Output, signal: AbortSignal): Promise<number> {
  let exitCode: number = EXIT.completed;
  const clientOf = (connection: Connection) => new ReportJobsClient({ baseUrl: connection.url, apiKey: connection.apiKey });
  let display: JobDisplay | undefined;
  let json = false;

  /** Waits for the job's end, showing its progress. */
  const follow = async (client: ReportJobsClient, instanceId: string, firstReadAfterSeconds?: number): Promise<FinalStatus> => {
    display = jobDisplay(out, { json, everyStatus: false });
    const shown = display;
    const final = await client.waitForCompletion(instanceId, { signal, firstReadAfterSeconds, onProgress: (status) => shown.progress(status) });
    shown.end(final);
    return final;
  };

  /** Follows the job's event stream; a service without one (404 for the stream of a job it knows) is polled instead. */
  const watch = async (client: ReportJobsClient, instanceId: string): Promise<FinalStatus> => {
    display = jobDisplay(out, { json, everyStatus: true });
    const shown = display;
    try {
      for await (const { status } of client.events(instanceId, { signal })) {
        if (!isFinal(status)) {
          shown.progress(status);
          continue;
        }
        shown.end(status);
        return status;
      }
      // The stream had already delivered the job's end to an earlier connection.
      const status = await client.waitForCompletion(instanceId, { signal });
      shown.end(status);
      return status;
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      await client.status(instanceId, { signal }); // throws NotFoundError when the job is unknown
      const status = await client.waitForCompletion(instanceId, { signal, onProgress: (progress) => shown.progress(progress) });
      shown.end(status);
      return status;
    }
  };

  const program = new Command('report-jobs')
    .description('Start, follow and manage report jobs of a report-jobs API.')
    .addOption(new Option('--url <url>', "the API's base URL").env('REPORT_JOBS_URL').default(DEFAULT_URL))
    .addOption(new Option('--api-key <key>', 'the API key').env('REPORT_JOBS_API_KEY'))
    .option('--json', 'print machine output only: JSON (one document per line where there are several)')
    .exitOverride()
    .configureOutput({ writeOut: (text) => out.stdout.write(text), writeErr: (text) => out.stderr.write(text) })
    .addHelpText('after', `${ENVIRONMENT_HELP}\n${EXIT_CODES_HELP}`)
    .showHelpAfterError('(run report-jobs --help for usage)');

  program
    .command('submit')
    .description("start a job; prints its instanceId (with --wait, follows it to its end)")
    .requiredOption('--customer-id <id>', 'the customer the report is for')
    .addOption(new Option('--operation <name>', 'the operation to run (default rebuild-report)').choices(REPORT_OPERATIONS))
    .option('--delay <seconds>', 'simulated work time, 0-3600 (default 5)', wholeSeconds)
    .option('--wait', 'wait for the end, showing progress; exit by how the job ended')
    .option('--idempotency-key <key>', 'repeats with the same key land on the same job (default: a new random key)')
    .action(async (options, command) => {
      const connection = command.optsWithGlobals();
      json = connection.json === true;
      const client = clientOf(connection);
      const started = await client.start(
        { customer_id: options.customerId, operation: options.operation, delay_seconds: options.delay },
        { idempotencyKey: options.idempotencyKey, signal },
      );
      if (options.wait) {
        exitCode = exitCodeOfStatus(await follow(client, started.instanceId, started.retryAfterSeconds));
      } else {
        out.stdout.write(json ? `${JSON.stringify(started)}\n` : `${started.instanceId}\n`);
      }
    });

  program
    .command('status')
    .description("print a job's status (exit 1 if it failed, 3 if terminated)")
    .argument('<instanceId>')
    .action(async (instanceId, _options, command) => {
      const connection = command.optsWithGlobals();
      const status = await clientOf(connection).status(instanceId, { signal });
      out.stdout.write(connection.json ? `${JSON.stringify(status)}\n` : `${isFinal(status) ? describeEnd(status) : describeProgress(status)}\n`);
      exitCode = exitCodeOfStatus(status);
    });

  program
    .command('wait')
    .description('wait for a job to end, showing its progress; exit by how it ended')
    .argument('<instanceId>')
    .action(async (instanceId, _options, command) => {
      const connection = command.optsWithGlobals();
      json = connection.json === true;
      exitCode = exitCodeOfStatus(await follow(clientOf(connection), instanceId));
    });

  program
    .command('watch')
    .description("follow a job's live events to its end (every status with --json); exit by how it ended")
    .argument('<instanceId>')
    .action(async (instanceId, _options, command) => {
      const connection = command.optsWithGlobals();
      json = connection.json === true;
      exitCode = exitCodeOfStatus(await watch(clientOf(connection), instanceId));
    });

  program
    .command('cancel')
    .description('cancel a job that has not ended; prints its status')
    .argument('<instanceId>')
    .option('--reason <text>', "why (the Terminated job's output.reason)")
    .action(async (instanceId, options, command) => {
      const connection = command.optsWithGlobals();
      const status = await clientOf(connection).cancel(instanceId, { reason: options.reason, signal });
      out.stdout.write(connection.json ? `${JSON.stringify(status)}\n` : `${isFinal(status) ? describeEnd(status) : `Cancelling: ${describeProgress(status)}`}\n`);
    });

  program
    .command('purge')
    .description("delete the record of a job that has ended")
    .argument('<instanceId>')
    .action(async (instanceId, _options, command) => {
      const connection = command.optsWithGlobals();
      const result = await clientOf(connection).purge(instanceId, { signal });
      out.stdout.write(connection.json ? `${JSON.stringify(result)}\n` : `Purged ${instanceId}\n`);
    });

  program
    .command('list')
    .description('list your jobs in creation order (one JSON document per line with --json)')
    .option('--status <statuses>', `only these runtimeStatus values, comma-separated: ${RUNTIME_STATUSES.join(', ')}`, runtimeStatuses)
    .option('--from <time>', 'created at or after this time (ISO 8601)')
    .option('--to <time>', 'created at or before this time (ISO 8601)')
    .option('--page-size <n>', 'jobs per request, at most 200', positiveInteger)
    .action(async (options, command) => {
      const connection = command.optsWithGlobals();
      const jobs = clientOf(connection).list({
        runtimeStatus: options.status,
        createdTimeFrom: options.from,
        createdTimeTo: options.to,
        pageSize: options.pageSize,
        signal,
      });
      for await (const job of jobs) {
        const line = connection.json
          ? JSON.stringify(job)
          : [job.instanceId, job.runtimeStatus.padEnd(10), job.createdTime, job.input.customer_id].join('  ');
        out.stdout.write(`${line}\n`);
      }
    });

  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    display?.abandon();
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.completed : EXIT.usage;
    if (signal.aborted) return INTERRUPTED;
    out.stderr.write(`${describeError(error, json || program.opts().json === true)}\n`);
    return exitCodeOfError(error);
  }
}
