import { OperationError } from './operation-handler';

/**
 * Deliberate failures configured by SIMULATED_FAILURES (`customer=count` or `customer=*`),
 * so retries can be tried out end to end against the real worker. Empty by default.
 */
export class SimulatedFailures {
  private readonly rules: Map<string, number>;

  constructor(spec: string | undefined) {
    this.rules = SimulatedFailures.parse(spec ?? '');
  }

  static parse(spec: string): Map<string, number> {
    const rules = new Map<string, number>();
    for (const entry of spec.split(',').map((part) => part.trim()).filter(Boolean)) {
      const match = /^([A-Za-z0-9._:-]{1,128})=(\*|\d+)$/.exec(entry);
      if (!match) throw new Error(`SIMULATED_FAILURES: "${entry}" is not customer=count or customer=*`);
      rules.set(match[1], match[2] === '*' ? Number.POSITIVE_INFINITY : Number(match[2]));
    }
    return rules;
  }

  get enabled(): boolean {
    return this.rules.size > 0;
  }

  /** Throws for the attempts of this customer that are configured to fail. */
  apply(customerId: string, attempt: number): void {
    const failing = this.rules.get(customerId) ?? 0;
    if (attempt <= failing) {
      throw new OperationError(`Simulated failure of attempt ${attempt} for ${customerId}`);
    }
  }
}
