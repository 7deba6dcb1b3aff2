import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import { isPublicAddress, rangeOf } from './address-policy';

/** One address of a host, as sockets take it. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** The host does not exist (or has no address): the URL cannot work as it is. */
export class HostNotFoundError extends Error {
  override name = 'HostNotFoundError';
}

/**
 * The host resolves to an address callbacks may not reach. The message is shown to the
 * client: for a name it never says which address the name resolved to, which would tell
 * anyone with an API key how the service's own network resolves names; `address` and
 * `range` are for the logs.
 */
export class AddressRefusedError extends Error {
  override name = 'AddressRefusedError';

  constructor(
    message: string,
    readonly address: string,
    readonly range: string,
  ) {
    super(message);
  }
}

/** Resolution failed for a passing reason (a DNS timeout, a server failure): try later. */
export class ResolutionFailedError extends Error {
  override name = 'ResolutionFailedError';
}

/** Longest a resolution may take: a submit waits for it. */
const RESOLVE_TIMEOUT_MS = 3_000;
const NOT_FOUND_CODES = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN', 'ENONAME']);

export interface CallbackResolverOptions {
  /** Also allow loopback, private, link-local and the other non-public addresses. */
  allowPrivateNetworks: boolean;
  /** DNS servers to ask instead of the system's resolver (ip or ip:port). */
  dnsServers?: string[];
}

/**
 * Resolves a callback's host and checks every address it resolves to: one that is not
 * public refuses the whole host (a name that mixes public and private addresses is a
 * rebinding attempt, or a mistake). The addresses it answers are the only ones a delivery
 * may connect to: the sender hands them to the socket itself, so the address checked and
 * the address connected to cannot differ (no second resolution a DNS rebinding could turn).
 */
export class CallbackResolver {
  private readonly resolver?: dns.Resolver;

  constructor(private readonly options: CallbackResolverOptions) {
    if (options.dnsServers && options.dnsServers.length > 0) {
      this.resolver = new dns.Resolver({ timeout: RESOLVE_TIMEOUT_MS, tries: 1 });
      this.resolver.setServers(options.dnsServers);
    }
  }

  /** The host's addresses, all allowed; throws HostNotFoundError, AddressRefusedError or ResolutionFailedError. */
  async addressesOf(host: string): Promise<ResolvedAddress[]> {
    const literal = isIP(host);
    const addresses = literal !== 0 ? [{ address: host, family: literal as 4 | 6 }] : await this.resolve(host);
    if (addresses.length === 0) throw new HostNotFoundError(`${host} has no address`);
    if (!this.options.allowPrivateNetworks) {
      const refused = addresses.find(({ address }) => !isPublicAddress(address));
      if (refused) {
        const range = rangeOf(refused.address);
        // A literal address is the client's own text; what a name resolves to is the service's.
        const which = literal !== 0 ? `is a ${range} address` : 'resolves to an address that is not public';
        throw new AddressRefusedError(`${host} ${which}; callbacks go to public addresses only`, refused.address, range);
      }
    }
    return addresses;
  }

  private async resolve(host: string): Promise<ResolvedAddress[]> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ResolutionFailedError(`resolving ${host} took longer than ${RESOLVE_TIMEOUT_MS} ms`)), RESOLVE_TIMEOUT_MS);
    });
    try {
      return await Promise.race([this.lookup(host), timeout]);
    } catch (error) {
      if (error instanceof ResolutionFailedError) throw error;
      const code = (error as NodeJS.ErrnoException).code ?? '';
      if (NOT_FOUND_CODES.has(code)) throw new HostNotFoundError(`${host} does not resolve`);
      throw new ResolutionFailedError(`resolving ${host} failed (${code || 'error'})`);
    } finally {
      clearTimeout(timer);
    }
  }

  private async lookup(host: string): Promise<ResolvedAddress[]> {
    if (!this.resolver) {
      const found = await dns.lookup(host, { all: true, order: 'verbatim' });
      return found.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
    }
    // Both families; a host with only one answers "no data" for the other.
    const [v4, v6] = await Promise.allSettled([this.resolver.resolve4(host), this.resolver.resolve6(host)]);
    const addresses = [
      ...(v4.status === 'fulfilled' ? v4.value.map((address) => ({ address, family: 4 as const })) : []),
      ...(v6.status === 'fulfilled' ? v6.value.map((address) => ({ address, family: 6 as const })) : []),
    ];
    if (addresses.length > 0) return addresses;
    throw v4.status === 'rejected' ? v4.reason : (v6 as PromiseRejectedResult).reason;
  }
}
