import { TerminationRequests } from '../../apps/worker/src/processors/termination-requests';

describe('TerminationRequests', () => {
  it('gives a remembered request once, and forgets it after 30 s', () => {
    const requests = new TerminationRequests();
    requests.remember('job-1', 'stop', 1000);
    expect(requests.take('job-2', 1000)).toBeUndefined();
    expect(requests.take('job-1', 2000)).toBe('stop');
    expect(requests.take('job-1', 2000)).toBeUndefined();
    requests.remember('job-3', 'late', 1000);
    expect(requests.take('job-3', 1000 + 30_001)).toBeUndefined();
  });
});
