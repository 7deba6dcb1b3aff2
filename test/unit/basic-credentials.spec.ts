import { basicCredentials } from '../../apps/api/src/dashboard/basic-credentials';

const basic = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`;

describe('basicCredentials', () => {
  it('reads the user name and the password, which may hold colons', () => {
    expect(basicCredentials(basic('ops:s3cret'))).toEqual({ user: 'ops', password: 's3cret' });
    expect(basicCredentials(basic('ops:a:b'))).toEqual({ user: 'ops', password: 'a:b' });
    expect(basicCredentials(`basic   ${Buffer.from('ops:k').toString('base64')}`)).toEqual({ user: 'ops', password: 'k' });
  });

  it.each([undefined, '', 'Bearer abc', 'Basic', 'Basic !!!', basic('no-colon')])('refuses %p', (header) => {
    expect(basicCredentials(header)).toBeUndefined();
  });
});
