import { Injectable, Logger } from '@nestjs/common';
import { Environment, webhookDnsServers, webhookSecrets } from '@report-jobs/config';
import {
  AddressRefusedError,
  CallbackResolver,
  CallbackUrlError,
  HostNotFoundError,
  hostOf,
  parseCallbackUrl,
} from '@report-jobs/webhooks';
import { ProblemException, UNAVAILABLE_RETRY_AFTER_SECONDS } from '../http/problem-details';

const FIELD = 'callback_url';

/**
 * Decides at submit whether a job may have the callback it asks for: its principal must
 * have a webhook secret (no delivery is ever sent unsigned), the URL must have an allowed
 * form, and its host must resolve to public addresses only (unless the deployment allows
 * private networks). The worker checks the address again at every delivery, since DNS
 * answers change.
 */
@Injectable()
export class CallbackPolicy {
  private readonly logger = new Logger(CallbackPolicy.name);
  private readonly principalsWithSecret: Set<string>;
  private readonly resolver: CallbackResolver;

  constructor(private readonly env: Environment) {
    this.principalsWithSecret = new Set(webhookSecrets(env).keys());
    this.resolver = new CallbackResolver({
      allowPrivateNetworks: env.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
      dnsServers: webhookDnsServers(env),
    });
  }

  /** The callback URL normalized, as the job stores it; a 400 naming the field otherwise (503 when DNS fails for now). */
  async check(raw: string, principal: string): Promise<string> {
    if (!this.principalsWithSecret.has(principal)) {
      throw refused('cannot be used: no webhook secret is configured for this API key’s principal');
    }
    let url: URL;
    try {
      url = parseCallbackUrl(raw, { allowInsecure: this.env.WEBHOOK_ALLOW_INSECURE });
    } catch (error) {
      if (error instanceof CallbackUrlError) throw refused(error.message);
      throw error;
    }
    try {
      await this.resolver.addressesOf(hostOf(url));
    } catch (error) {
      if (error instanceof AddressRefusedError) {
        // The address stays in the log (with the request id): the client is not told it.
        this.logger.log({ host: hostOf(url), address: error.address, range: error.range }, 'Refused a callback_url whose host resolves to a non-public address');
        throw refused(error.message);
      }
      if (error instanceof HostNotFoundError) throw refused(error.message);
      this.logger.warn(`Could not check a callback host: ${error instanceof Error ? error.message : error}`);
      throw new ProblemException(503, 'The callback_url’s host could not be resolved just now; try again after Retry-After.').withHeaders({
        'retry-after': String(UNAVAILABLE_RETRY_AFTER_SECONDS),
      });
    }
    return url.href;
  }
}

function refused(reason: string): ProblemException {
  const message = `${FIELD} ${reason}`;
  return new ProblemException(400, 'The request is invalid; see errors.', [{ field: FIELD, message }]);
}
