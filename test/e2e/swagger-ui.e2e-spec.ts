import type { HTTPRequest, HTTPResponse, Page } from 'puppeteer-core';
import { checkAnswer } from '../support/api-contract';
import { startApi, startWorker, type AppProcess } from '../support/apps';
import { launchBrowser, type TestBrowser } from '../support/browser';
import { startTestRedis, type TestRedis } from '../support/redis-server';
import { waitFor } from '../support/wait';

// Swagger UI as a new user meets it, in a real Chromium: authorize with a key, try the
// POST (202 with a Location) and then the status GET until it shows 200 Completed. The
// page must send only what the person typed: no Prefer, no Idempotency-Key.
//
// Swagger UI's DOM is this test's contract; the selectors it relies on:
//   .btn.authorize                                   the Authorize button of the page
//   #auth-bearer-value                               the bearer scheme's key field in the dialog
//   .modal-ux .auth-container button[type=submit]    the dialog's Authorize (first container: bearer)
//   .modal-ux button.btn-done                        the dialog's Close
//   #operations-<tag>-<operationId>                  an operation (tag "report jobs" → report_jobs)
//   .opblock-summary-control                         expands it
//   .try-out__btn / .execute / .btn-clear            Try it out / Execute / Clear
//   textarea.body-param__text                        the request body editor
//   .parameters input[placeholder=<name>]            a parameter's field
//   .live-responses-table tr.response                the answer shown: .response-col_status its
//                                                    status, code.language-json its body,
//                                                    .headerline its headers

const API_KEY = 'swagger-ui-key-00001';
const POST = '#operations-report_jobs-ReportsController_start';
const STATUS = '#operations-report_jobs-ReportsController_status';

interface ShownAnswer {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

describe('Swagger UI', () => {
  let redis: TestRedis;
  let api: AppProcess;
  let worker: AppProcess;
  let browser: TestBrowser;
  let page: Page;
  const sent: HTTPRequest[] = [];
  const answers: Promise<void>[] = [];

  beforeAll(async () => {
    redis = await startTestRedis();
    [api, worker, browser] = await Promise.all([
      startApi(redis.url, { ALLOW_ANONYMOUS: 'false', API_KEYS: `docs-reader:${API_KEY}` }),
      startWorker(redis.url),
      launchBrowser(),
    ]);
    page = await browser.browser.newPage();
    await page.setViewport({ width: 1280, height: 1000 });
    page.on('request', (request) => {
      if (new URL(request.url()).pathname.startsWith('/api/')) sent.push(request);
    });
    // What the page receives from the API is held to the document like any other answer.
    page.on('response', (response) => answers.push(checkBrowserAnswer(response)));
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all([api?.stop(), worker?.stop()]);
    await redis?.close();
  });

  async function checkBrowserAnswer(response: HTTPResponse): Promise<void> {
    const request = response.request();
    // Preflights and redirects have no body to read.
    const text = response.status() >= 300 && response.status() < 400 ? '' : await response.text().catch(() => '');
    checkAnswer(response.url(), {
      method: request.method(),
      target: response.url(),
      status: response.status(),
      header: (name) => response.headers()[name],
      text,
    });
  }

  /** Executes the expanded, tried-out operation and reads the answer the page shows. */
  async function execute(operation: string): Promise<ShownAnswer> {
    const clear = await page.$(`${operation} .btn-clear`);
    if (clear) await clear.click();
    await page.click(`${operation} .execute`);
    const shown = `${operation} .live-responses-table tr.response`;
    const status = await page.waitForSelector(`${shown} .response-col_status`);
    const headerLines = await page.$$eval(`${shown} .headerline`, (lines) => lines.map((line) => line.textContent ?? ''));
    const headers = Object.fromEntries(
      headerLines.map((line) => {
        const colon = line.indexOf(':');
        return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
      }),
    );
    const body = await page.$eval(`${shown} code.language-json`, (code) => code.textContent ?? '');
    return { status: Number(await status!.evaluate((cell) => cell.textContent)), headers, body: JSON.parse(body) };
  }

  async function tryOut(operation: string): Promise<void> {
    await page.click(`${operation} .opblock-summary-control`);
    await (await page.waitForSelector(`${operation} .try-out__btn`))!.click();
    await page.waitForSelector(`${operation} .execute`);
  }

  /** Replaces a field's whole text, as a person selecting it all and typing would. */
  async function typeInto(selector: string, text: string): Promise<void> {
    await page.click(selector);
    await page.keyboard.down('Control');
    await page.keyboard.press('KeyA');
    await page.keyboard.up('Control');
    await page.keyboard.press('Backspace');
    await page.type(selector, text);
  }

  it('starts a job with 202 and Location, then shows it Completed, sending only what was typed', async () => {
    await page.goto(`${api.url}/docs`, { waitUntil: 'networkidle0' });

    await page.click('.btn.authorize');
    await page.waitForSelector('#auth-bearer-value');
    await page.type('#auth-bearer-value', API_KEY);
    await page.click('.modal-ux .auth-container button[type=submit]');
    await page.click('.modal-ux button.btn-done');
    await page.waitForSelector('.modal-ux', { hidden: true });

    const customerId = `swagger-ui-${Date.now()}`;
    await tryOut(POST);
    // The optional headers are offered, empty.
    const offered = await page.$$eval(`${POST} .parameters input`, (inputs) =>
      inputs.map((input) => [input.getAttribute('placeholder'), 'value' in input ? input.value : undefined]),
    );
    expect(offered.sort()).toEqual([
      ['Idempotency-Key', ''],
      ['Prefer', ''],
    ]);
    await typeInto(`${POST} textarea.body-param__text`, JSON.stringify({ customer_id: customerId, delay_seconds: 1 }));
    const accepted = await execute(POST);

    expect(accepted.status).toBe(202);
    expect(accepted.body.status).toBe('accepted');
    const instanceId = accepted.body.instanceId as string;
    expect(accepted.headers.location).toBe(`${api.url}/api/jobs/reports/${instanceId}`);
    expect(accepted.headers['retry-after']).toMatch(/^\d+$/);

    const postSent = sent.filter((request) => request.method() === 'POST');
    expect(postSent).toHaveLength(1);
    expect(postSent[0].headers()).toMatchObject({ authorization: `Bearer ${API_KEY}` });
    expect(postSent[0].headers()).not.toHaveProperty('prefer');
    expect(postSent[0].headers()).not.toHaveProperty('idempotency-key');

    await tryOut(STATUS);
    await page.type(`${STATUS} .parameters input[placeholder=instanceId]`, instanceId);
    const done = await waitFor(
      'the status to show the job ended',
      async () => {
        const shown = await execute(STATUS);
        expect([200, 202]).toContain(shown.status);
        return shown.status === 200 ? shown : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(done.body).toMatchObject({
      instanceId,
      runtimeStatus: 'Completed',
      output: { status: 'completed', instanceId, result: { customerId, operation: 'rebuild-report' } },
    });

    const statusSent = sent.filter((request) => request.method() === 'GET');
    expect(statusSent.length).toBeGreaterThan(0);
    for (const request of statusSent) {
      // No optional query parameter or header the person did not fill in.
      expect(request.url()).toBe(`${api.url}/api/jobs/reports/${instanceId}`);
      expect(request.headers()).not.toHaveProperty('prefer');
    }
    await Promise.all(answers);
  });
});
