import { publicBaseUrl, statusUrl } from '../../apps/api/src/http/public-url';

describe('public URLs', () => {
  it('prefers PUBLIC_BASE_URL, without its trailing slashes', () => {
    expect(publicBaseUrl('https://api.example.com/', 'http', 'internal:3000')).toBe('https://api.example.com');
    expect(publicBaseUrl('https://example.com/reports//', 'http', 'x')).toBe('https://example.com/reports');
  });

  it.each([
    ['http', 'localhost:3000', 'http://localhost:3000'],
    ['https', 'reports.example.com', 'https://reports.example.com'],
    ['http', '[::1]:3000', 'http://[::1]:3000'],
    ['http', '10.0.0.5', 'http://10.0.0.5'],
  ])('uses the request scheme and host: %s %s', (protocol, host, expected) => {
    expect(publicBaseUrl(undefined, protocol, host)).toBe(expected);
  });

  it.each([[undefined], [''], ['evil.com/path'], ['a b'], ['host:port'], ['x@y']])(
    'does not echo an implausible Host %j into a URL',
    (host) => {
      expect(publicBaseUrl(undefined, 'http', host)).toBe('http://localhost');
    },
  );

  it.each(['https://evil.example/x?', 'ftp', 'javascript'])('never echoes the scheme %j', (protocol) => {
    expect(publicBaseUrl(undefined, protocol, 'api.example.com')).toBe('http://api.example.com');
  });

  it('appends the status path', () => {
    expect(statusUrl('https://a.example', 'abc')).toBe('https://a.example/api/jobs/reports/abc');
  });
});
