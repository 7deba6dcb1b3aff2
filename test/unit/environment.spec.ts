import { environmentVariableNames, InvalidEnvironmentError, validateEnvironment } from '@report-jobs/config';

describe('validateEnvironment', () => {
  it('applies the documented defaults', () => {
    const env = validateEnvironment({});
    expect(env).toMatchObject({
      PORT: 3000,
      REDIS_URL: 'redis://localhost:6379',
      TRUST_PROXY: false,
      JOB_ATTEMPTS: 3,
      JOB_BACKOFF_MS: 1000,
      WORKER_CONCURRENCY: 10,
      LOG_LEVEL: 'info',
    });
    expect(env.PUBLIC_BASE_URL).toBeUndefined();
  });

  it('converts numbers and booleans from their text', () => {
    const env = validateEnvironment({ PORT: '8080', TRUST_PROXY: 'true', JOB_ATTEMPTS: '5', PUBLIC_BASE_URL: 'https://x.example' });
    expect(env).toMatchObject({ PORT: 8080, TRUST_PROXY: true, JOB_ATTEMPTS: 5, PUBLIC_BASE_URL: 'https://x.example' });
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['REDIS_URL', 'localhost:6379'],
    ['REDIS_URL', 'http://localhost:6379'],
    ['PUBLIC_BASE_URL', 'example.com'],
    ['TRUST_PROXY', 'maybe'],
    ['JOB_ATTEMPTS', '0'],
    ['JOB_BACKOFF_MS', '-1'],
    ['WORKER_CONCURRENCY', '1.5'],
    ['LOG_LEVEL', 'loud'],
    ['NODE_ENV', 'staging'],
  ])('refuses %s=%s and names it', (name, value) => {
    expect(() => validateEnvironment({ [name]: value })).toThrow(InvalidEnvironmentError);
    expect(() => validateEnvironment({ [name]: value })).toThrow(new RegExp(`${name}="${value.replace(/[.]/g, '\\.')}"`));
  });

  it('names every bad variable at once', () => {
    expect(() => validateEnvironment({ PORT: 'x', LOG_LEVEL: 'y' })).toThrow(/PORT[\s\S]*LOG_LEVEL/);
  });

  it('refuses simulated failures in production', () => {
    expect(() => validateEnvironment({ NODE_ENV: 'production', SIMULATED_FAILURES: 'c=1' })).toThrow(/SIMULATED_FAILURES/);
  });

  it('lists every variable it reads', () => {
    expect(environmentVariableNames()).toEqual(expect.arrayContaining(['PORT', 'REDIS_URL', 'PUBLIC_BASE_URL', 'SIMULATED_FAILURES']));
  });
});
