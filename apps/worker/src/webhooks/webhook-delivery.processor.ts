import { Injectable, Logger } from '@nestjs/common';
import { UnrecoverableError, type Job } from 'bullmq';
import { Environment, webhookDnsServers, webhookRetryDelays, webhookSecrets } from '@report-jobs/config';
import type { WebhookDeliveryData, WebhookDeliveryRecord } from '@report-jobs/contract';
import type { WebhookAttemptOutcome } from '@report-jobs/metrics';
import {
  AddressRefusedError,
  CallbackResolver,
  CallbackUrlError,
  hostOf,
  nextAttemptDelayMs,
  parseCallbackUrl,
  sendWebhook,
  signWebhook,
} from '@report-jobs/webhooks';
import { WorkerMetrics } from '../metrics/worker-metrics';
import { WebhookQueue } from './webhook-queue';

export type DeliveryJob = Job<WebhookDeliveryData>;

/** A failed attempt with another to come, after `delayMs` (the backoff strategy reads it). */
export class RetryDelivery extends Error {
  override name = 'RetryDelivery';

  constructor(
    message: string,
    readonly delayMs: number,
  ) {
    super(message);
  }
}

/**
 * One delivery attempt: checks the callback's address again (DNS answers change: the
 * address connected to is the one checked), signs the body with the principal's secrets,
 * POSTs it, and records on the report job where the delivery stands. 2xx delivers; 410
 * stops for good (disabled); anything else, a 3xx included (redirects are not followed),
 * a timeout or a network error, is retried on the schedule (later when the receiver's
 * Retry-After asks) until the last attempt fails. An address that is not allowed fails the
 * delivery at once.
 */
@Injectable()
export class WebhookDeliveryProcessor {
  private readonly logger = new Logger(WebhookDeliveryProcessor.name);
  private readonly secrets: Map<string, Buffer[]>;
  private readonly resolver: CallbackResolver;
  readonly retryDelays: number[];

  constructor(
    private readonly env: Environment,
    private readonly webhooks: WebhookQueue,
    private readonly metrics: WorkerMetrics,
  ) {
    this.secrets = webhookSecrets(env);
    this.retryDelays = webhookRetryDelays(env);
    this.resolver = new CallbackResolver({ allowPrivateNetworks: env.WEBHOOK_ALLOW_PRIVATE_NETWORKS, dnsServers: webhookDnsServers(env) });
  }

  async deliver(job: DeliveryJob): Promise<void> {
    const { instanceId } = job.data;
    const attempt = job.attemptsMade + 1;
    const current = await this.webhooks.outboxOf(instanceId).readState(instanceId);
    if (current && current.state !== 'pending') {
      // Another delivery of this job's end already finished (one queued twice).
      this.logger.log({ instanceId }, `Webhook already ${current.state}; not sent again`);
      return;
    }
    const result = await this.attempt(job.data);
    const now = Date.now();
    if (result.delivered) {
      await this.record(instanceId, { state: 'delivered', attempts: attempt, deliveredAt: now }, 'delivered');
      return;
    }
    const lastError = result.error;
    this.logger.warn({ instanceId, attempt }, `Webhook attempt failed: ${lastError}`);
    if (result.final || attempt >= (job.opts.attempts ?? 1)) {
      const state = result.final === 'disabled' ? 'disabled' : 'failed';
      await this.record(instanceId, { state, attempts: attempt, lastError }, state);
      throw new UnrecoverableError(lastError);
    }
    const delayMs = nextAttemptDelayMs(this.retryDelays, attempt, result.retryAfterMs);
    await this.record(instanceId, { state: 'pending', attempts: attempt, lastError, nextAttemptAt: now + delayMs }, 'retried');
    throw new RetryDelivery(lastError, delayMs);
  }

  private async attempt(
    delivery: WebhookDeliveryData,
  ): Promise<{ delivered: true } | { delivered: false; error: string; final?: 'failed' | 'disabled'; retryAfterMs?: number }> {
    const secrets = this.secrets.get(delivery.principal);
    if (!secrets || secrets.length === 0) {
      return { delivered: false, error: `no webhook secret is configured for principal ${delivery.principal}`, final: 'failed' };
    }
    try {
      const url = parseCallbackUrl(delivery.url, { allowInsecure: this.env.WEBHOOK_ALLOW_INSECURE });
      const addresses = await this.resolver.addressesOf(hostOf(url));
      const headers = signWebhook(secrets, delivery.webhookId, Math.floor(Date.now() / 1000), delivery.body);
      const answer = await sendWebhook({
        url,
        addresses,
        headers: { ...headers },
        body: delivery.body,
        timeoutMs: this.env.WEBHOOK_TIMEOUT_SECONDS * 1000,
      });
      if (answer.status >= 200 && answer.status < 300) return { delivered: true };
      if (answer.status === 410) return { delivered: false, error: 'answered 410 Gone: no more deliveries', final: 'disabled' };
      const redirect = answer.status >= 300 && answer.status < 400 ? ' (redirects are not followed)' : '';
      return { delivered: false, error: `answered ${answer.status}${redirect}`, retryAfterMs: answer.retryAfterMs };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // Refused by the policy: retrying would be refused again (and may be an attack).
      if (error instanceof AddressRefusedError) {
        // The address goes to the log only: lastError is shown to the client.
        this.logger.warn({ instanceId: delivery.instanceId, address: error.address, range: error.range }, 'Webhook refused: its host resolves to a non-public address');
      }
      if (error instanceof AddressRefusedError || error instanceof CallbackUrlError) {
        return { delivered: false, error: `refused: ${message}`, final: 'failed' };
      }
      return { delivered: false, error: message };
    }
  }

  /** Records the delivery's state on its job and counts the attempt. */
  private async record(instanceId: string, state: WebhookDeliveryRecord, outcome: WebhookAttemptOutcome): Promise<void> {
    this.metrics.webhookAttempt(outcome);
    if (outcome === 'delivered') this.logger.log({ instanceId, attempts: state.attempts }, 'Webhook delivered');
    await this.webhooks.outboxOf(instanceId).writeState(instanceId, state);
  }
}
