import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { signWebhook } from '@report-jobs/webhooks';

// The signatures are checked with an independent Standard Webhooks implementation.
describe('signWebhook', () => {
  const raw = randomBytes(32);
  const secret = `whsec_${raw.toString('base64')}`;
  const body = JSON.stringify({ type: 'report.completed', timestamp: '2026-11-26T10:00:00.000Z', data: { é: 'ü' } });
  const now = () => Math.floor(Date.now() / 1000);

  it('signs id, timestamp and the exact body as Standard Webhooks verifies them', () => {
    const headers = signWebhook([raw], 'msg_abc', now(), body);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
  });

  it('fails verification for another body, id or secret', () => {
    const headers = { ...signWebhook([raw], 'msg_abc', now(), body) };
    expect(() => new Webhook(secret).verify(body.replace('ü', 'u'), headers)).toThrow();
    expect(() => new Webhook(secret).verify(body, { ...headers, 'webhook-id': 'msg_abd' })).toThrow();
    expect(() => new Webhook(`whsec_${randomBytes(32).toString('base64')}`).verify(body, headers)).toThrow();
  });

  it('signs with every secret of a rotation, so either verifies', () => {
    const next = randomBytes(32);
    const headers = { ...signWebhook([raw, next], 'msg_abc', now(), body) };
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(new Webhook(secret).verify(body, headers)).toBeTruthy();
    expect(new Webhook(`whsec_${next.toString('base64')}`).verify(body, headers)).toBeTruthy();
  });
});
