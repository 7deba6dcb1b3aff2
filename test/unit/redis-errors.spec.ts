import { ReplyError } from 'ioredis';
import { classifyRedisError, isRedisUnavailable, NodeUnreachableError } from '@report-jobs/queue';

const named = (name: string, message: string) => Object.assign(new Error(message), { name });
const withCode = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('classifyRedisError', () => {
  it.each([
    ["Stream isn't writeable and enableOfflineQueue options is false", new Error("Stream isn't writeable and enableOfflineQueue options is false")],
    ['connection refused', withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:6379')],
    ['all cluster nodes failed', named('ClusterAllFailedError', 'Failed to refresh slots cache.')],
    ['no connection to the master of a slot', new NodeUnreachableError('No connection to the master of slot 5152')],
    ['a cluster node that went away', new Error('Node is disconnected')],
    ['a cluster client that was closed', named('AbortError', 'Cluster is ended.')],
    ['a cluster that gave up: refused each time', new Error('Too many Cluster redirections. Last error: ReplyError: CLUSTERDOWN The cluster is down')],
  ])('calls %s not sent or refused', (_name, error) => {
    expect(['not-sent', 'refused']).toContain(classifyRedisError(error));
    expect(isRedisUnavailable(error)).toBe(true);
  });

  it('tells a cluster retry loop that ended on refusals from one that may have sent the command', () => {
    const gaveUp = (last: string) => new Error(`Too many Cluster redirections. Last error: ${last}`);
    expect(classifyRedisError(gaveUp('ReplyError: TRYAGAIN Multiple keys request during rehashing of slot'))).toBe('refused');
    expect(classifyRedisError(gaveUp('Error: Connection is closed.'))).toBe('no-answer');
    expect(classifyRedisError(new NodeUnreachableError('No connection to the master of slot 1'))).toBe('not-sent');
  });

  it.each(['LOADING Redis is loading the dataset in memory', 'BUSY Redis is busy running a script', 'MASTERDOWN Link with MASTER is down',
    "READONLY You can't write against a read only replica.", 'TRYAGAIN Multiple keys request during rehashing of slot',
    'CLUSTERDOWN The cluster is down', "OOM command not allowed when used memory > 'maxmemory'.",
    'MISCONF Redis is configured to save RDB snapshots, but it is currently not able to persist on disk.',
  ])('calls the reply %s refused', (message) => {
    expect(classifyRedisError(new ReplyError(message))).toBe('refused');
  });

  it.each([
    ['a command timeout', new Error('Command timed out')],
    ['a connection closed with commands in flight', new Error('Connection is closed.')],
    ['retries exhausted', named('MaxRetriesPerRequestError', 'Reached the max retries per request limit (which is 1).')],
    ['a connection reset', withCode('ECONNRESET', 'read ECONNRESET')],
    // ioredis aborts the rest of a pipeline (auto-pipelining: other requests' commands)
    // whose first replies came before the connection closed: they were sent.
    ['a pipelined command aborted by the connection closing', named('AbortError', 'Command aborted due to connection close')],
  ])('calls %s unanswered: the command may have run', (_name, error) => {
    expect(classifyRedisError(error)).toBe('no-answer');
  });

  it.each([
    ['WRONGTYPE', new ReplyError('WRONGTYPE Operation against a key holding the wrong kind of value')],
    ['CROSSSLOT', new ReplyError("CROSSSLOT Keys in request don't hash to the same slot")],
    ['a script error', new ReplyError('ERR user_script:1: Script attempted to access nonexistent global variable')],
    ['a code bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['a thrown string', 'LOADING'],
    ['nothing', undefined],
  ])('calls %s unexpected', (_name, error) => {
    expect(classifyRedisError(error)).toBe('unexpected');
    expect(isRedisUnavailable(error)).toBe(false);
  });

  it('classifies an aborted transaction by the error that aborted it', () => {
    const aborted = (cause: Error) => Object.assign(new ReplyError('EXECABORT Transaction discarded because of previous errors.'), { previousErrors: [cause] });
    expect(classifyRedisError(aborted(new ReplyError('OOM command not allowed')))).toBe('refused');
    expect(classifyRedisError(aborted(new ReplyError('WRONGTYPE Operation against a key')))).toBe('unexpected');
  });
});
