import { OperationError } from '../../apps/worker/src/operations/operation-handler';
import { SimulatedFailures } from '../../apps/worker/src/operations/simulated-failures';

describe('SimulatedFailures', () => {
  it('is off when unset', () => {
    const failures = new SimulatedFailures(undefined);
    expect(failures.enabled).toBe(false);
    expect(() => failures.apply('anyone', 1)).not.toThrow();
  });

  it('fails the first N attempts of a customer, and every attempt with *', () => {
    const failures = new SimulatedFailures('flaky=2, broken=*');
    expect(() => failures.apply('flaky', 1)).toThrow(OperationError);
    expect(() => failures.apply('flaky', 2)).toThrow('Simulated failure of attempt 2 for flaky');
    expect(() => failures.apply('flaky', 3)).not.toThrow();
    expect(() => failures.apply('broken', 50)).toThrow(OperationError);
    expect(() => failures.apply('other', 1)).not.toThrow();
  });

  it.each(['flaky', 'flaky=', 'flaky=x', '=2', 'a b=1'])('refuses the rule %j', (spec) => {
    expect(() => new SimulatedFailures(spec)).toThrow(/SIMULATED_FAILURES/);
  });
});
