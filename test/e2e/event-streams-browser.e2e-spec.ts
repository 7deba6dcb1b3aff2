import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'puppeteer-core';
import { startApi, startWorker, type AppProcess } from '../support/apps';
import { launchBrowser, type TestBrowser } from '../support/browser';
import { postJson } from '../support/http';
import { startTestRedis, type TestRedis } from '../support/redis-server';
import { waitFor } from '../support/wait';

const KEY = 'browser-app-key-0001';

interface SeenEvent {
  id: string;
  data: { runtimeStatus: string; output: Record<string, unknown> | null };
}

/** Ids are attempt.phase.progress; each must be newer than the one before. */
function expectIdsIncreasing(events: SeenEvent[]): void {
  const ids = events.map((event) => event.id.split('.').map(Number));
  for (let i = 1; i < ids.length; i++) {
    const [a, b] = [ids[i], ids[i - 1]];
    expect(a[0] - b[0] || a[1] - b[1] || a[2] - b[2]).toBeGreaterThan(0);
  }
}

// A web app on another origin follows a job in a real browser: with EventSource, the
// browser's own SSE client, which reconnects by itself; and with fetch and an API key,
// which EventSource cannot send. Both depend on the CORS headers of the stream's answer.
describe('event streams in a browser', () => {
  let redis: TestRedis;
  let api: AppProcess;
  let worker: AppProcess;
  let browser: TestBrowser;
  let appServer: Server;
  let appOrigin: string;

  beforeAll(async () => {
    appServer = createServer((_request, response) => response.end('<!doctype html><title>reports app</title>'));
    appServer.listen(0, '127.0.0.1');
    await once(appServer, 'listening');
    appOrigin = `http://127.0.0.1:${(appServer.address() as AddressInfo).port}`;
    redis = await startTestRedis();
    [api, worker, browser] = await Promise.all([
      // Without a key the caller is "anonymous", as EventSource sends none.
      startApi(redis.url, { CORS_ORIGINS: appOrigin, API_KEYS: `browser-app:${KEY}` }),
      startWorker(redis.url),
      launchBrowser(),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all([api?.stop(), worker?.stop()]);
    await redis?.close();
    appServer?.close();
  });

  async function openApp(): Promise<Page> {
    const page = await (await browser.browser.createBrowserContext()).newPage();
    await page.goto(appOrigin);
    return page;
  }

  it('EventSource gets every status in order, then stops reconnecting once the job has ended', async () => {
    const accepted = await postJson(`${api.url}/api/jobs/reports`, { customer_id: 'cust-browser', delay_seconds: 2 });
    const eventsUrl = `${accepted.body.statusQueryGetUri as string}/events`;
    const page = await openApp();
    await page.evaluate(`
      window.seen = [];
      window.source = new EventSource(${JSON.stringify(eventsUrl)});
      window.source.addEventListener('status', (event) => window.seen.push({ id: event.lastEventId, data: JSON.parse(event.data) }));
    `);
    // The stream closes after the final event; EventSource reconnects with Last-Event-ID,
    // and the 204 it gets tells it to stop for good (readyState CLOSED).
    await page.waitForFunction('window.source.readyState === EventSource.CLOSED', { timeout: 30_000 });
    const seen = (await page.evaluate('window.seen')) as SeenEvent[];
    expectIdsIncreasing(seen);
    expect(seen.map((event) => event.data.runtimeStatus).join(' ')).toMatch(/^(Pending )*(Running )+Completed$/);
    expect(seen.at(-1)!.data.output).toMatchObject({ status: 'completed' });
    const answers = () =>
      api
        .logLines()
        .filter((line) => (line.req as { url?: string } | undefined)?.url === new URL(eventsUrl).pathname)
        .map((line) => (line.res as { statusCode: number }).statusCode);
    // The API's log line of the reconnect may reach the test after the browser has closed.
    await waitFor('the API to log both answers', async () => answers().length >= 2);
    expect(answers()).toEqual([200, 204]);
    await page.browserContext().close();
  });

  it('fetch with an API key reads the stream, its headers allowed by CORS', async () => {
    const headers = { authorization: `Bearer ${KEY}` };
    const accepted = await postJson(`${api.url}/api/jobs/reports`, { customer_id: 'cust-browser', delay_seconds: 1 }, headers);
    const page = await openApp();
    const answer = (await page.evaluate(`(async () => {
      const response = await fetch(${JSON.stringify(`${accepted.body.statusQueryGetUri as string}/events`)}, { headers: ${JSON.stringify(headers)} });
      return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
    })()`)) as { status: number; type: string; text: string };
    expect(answer).toMatchObject({ status: 200, type: 'text/event-stream' });
    const events = answer.text
      .split('\n\n')
      .filter((block) => block.startsWith('id: '))
      .map((block) => ({ id: /^id: (.*)$/m.exec(block)![1], data: JSON.parse(/^data: (.*)$/m.exec(block)![1]) as SeenEvent['data'] }));
    expectIdsIncreasing(events);
    expect(events.at(-1)!.data.runtimeStatus).toBe('Completed');
    await page.browserContext().close();
  });
});
