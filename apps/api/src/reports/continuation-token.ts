import type { IndexEntry } from './job-store';
import { ProblemException } from '../http/problem-details';

/** An opaque token for "after this entry of the index": its creation time and id. */
export function encodeContinuationToken(entry: IndexEntry): string {
  return Buffer.from(JSON.stringify([entry.createdAt, entry.id])).toString('base64url');
}

export function decodeContinuationToken(token: string): IndexEntry {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown[];
    if (Number.isSafeInteger(createdAt) && typeof id === 'string' && /^[0-9a-f-]{36}$/.test(id)) {
      return { createdAt: createdAt as number, id };
    }
  } catch {
    // falls through to the 400 below
  }
  throw new ProblemException(400, 'continuationToken is not one this service issued.', [
    { field: 'continuationToken', message: 'not a token from a previous page' },
  ]);
}
