import { InvalidEnvironmentError, validateEnvironment } from '@report-jobs/config';

describe('metrics and dashboard settings', () => {
  it('default to metrics on (API on port 9464, worker on its health port) and a read-only dashboard', () => {
    expect(validateEnvironment({})).toMatchObject({ METRICS_PORT: 9464, WORKER_METRICS: true, DASHBOARD_ACTIONS: false });
    expect(validateEnvironment({ METRICS_PORT: '0', WORKER_METRICS: 'false', DASHBOARD_ACTIONS: 'true' })).toMatchObject({
      METRICS_PORT: 0,
      WORKER_METRICS: false,
      DASHBOARD_ACTIONS: true,
    });
  });

  it.each([
    ['METRICS_PORT', '65536'],
    ['METRICS_PORT', '-1'],
    ['METRICS_PORT', 'off'],
    ['WORKER_METRICS', 'yes please'],
    ['DASHBOARD_ACTIONS', 'sometimes'],
  ])('refuses %s=%s and names it', (name, value) => {
    expect(() => validateEnvironment({ [name]: value })).toThrow(new RegExp(`${name}="${value}"`));
  });

  it('refuses to serve metrics on the public port', () => {
    expect(() => validateEnvironment({ PORT: '8080', METRICS_PORT: '8080' })).toThrow(InvalidEnvironmentError);
    expect(() => validateEnvironment({ PORT: '8080', METRICS_PORT: '8080' })).toThrow(/METRICS_PORT=8080 must differ from PORT/);
    expect(validateEnvironment({ PORT: '8080', METRICS_PORT: '0' }).METRICS_PORT).toBe(0);
  });
});
