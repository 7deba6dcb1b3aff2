import { setTimeout as sleep } from 'node:timers/promises';
import { checkAnswer } from './api-contract';

export interface JsonResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

/**
 * fetch, for calls to the API: an answer of an API the tests started is checked against
 * the OpenAPI document that API serves (test/support/api-contract.ts), and a mismatch
 * fails the test.
 */
export async function fetchApi(url: string, init: RequestInit = {}): Promise<Response> {
  const response = await fetch(url, init);
  const text = await response.clone().text();
  checkAnswer(url, {
    method: init.method ?? 'GET',
    target: url,
    status: response.status,
    header: (name) => response.headers.get(name) ?? undefined,
    text,
  });
  return response;
}

/**
 * fetchApi for clients that send Request objects (openapi-fetch, libs/client): the answer
 * is checked the same way. An event stream is left alone: it has no end to read.
 */
export async function fetchChecked(request: Request): Promise<Response> {
  const response = await fetch(request);
  if (response.headers.get('content-type')?.startsWith('text/event-stream')) return response;
  const text = await response.clone().text();
  checkAnswer(request.url, {
    method: request.method,
    target: request.url,
    status: response.status,
    header: (name) => response.headers.get(name) ?? undefined,
    text,
  });
  return response;
}

/** fetchApi, with the body parsed as JSON when there is one. */
export async function request<T = Record<string, unknown>>(
  url: string,
  init: RequestInit = {},
): Promise<JsonResponse<T>> {
  const response = await fetchApi(url, { ...init, signal: init.signal ?? AbortSignal.timeout(3_000) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : undefined) as T };
}

export function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  return request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/**
 * Polls a status URL until it stops answering 202 and returns every answer seen.
 * Polls faster than Retry-After asks, to keep the tests short.
 */
export async function pollUntilDone(
  statusUrl: string,
  { intervalMs = 150, timeoutMs = 30_000, headers = {} as Record<string, string> } = {},
): Promise<Array<JsonResponse>> {
  const seen: Array<JsonResponse> = [];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const answer = await request(statusUrl, { headers });
    seen.push(answer);
    if (answer.status !== 202) return seen;
    await sleep(intervalMs);
  }
  throw new Error(`${statusUrl} still answered 202 after ${timeoutMs} ms`);
}
