import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateEnvironment } from '@report-jobs/config';
import { ApiKeyRegistry } from '../../apps/api/src/auth/api-key-registry';

const registry = (env: Record<string, string>) => ApiKeyRegistry.fromEnvironment(validateEnvironment(env));

describe('ApiKeyRegistry', () => {
  it('maps each key to its principal and role', () => {
    const keys = registry({ API_KEYS: 'tenant-a:aaaaaaaa1,tenant-b:bbbbbbbb2', ADMIN_API_KEYS: 'ops:oooooooo3' });
    expect(keys.authenticate('aaaaaaaa1')).toEqual({ principal: 'tenant-a', admin: false });
    expect(keys.authenticate('oooooooo3')).toEqual({ principal: 'ops', admin: true });
    expect(keys.authenticate('aaaaaaaa')).toBeUndefined();
    expect(keys.authenticate('')).toBeUndefined();
  });

  it('reads API_KEYS_FILE, pairs by lines or commas, comment lines skipped whatever they hold', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'keys-')), 'keys');
    writeFileSync(file, '# ops, and a comment with commas, colons: anything\ntenant-c:cccccccc4\n\ntenant-d:dddddddd5,tenant-e:eeeeeeee6\n');
    const keys = registry({ API_KEYS_FILE: file });
    expect(keys.size).toBe(3);
    expect(keys.authenticate('dddddddd5')?.principal).toBe('tenant-d');
  });

  it.each([
    [{}, /No API keys configured/],
    [{ API_KEYS: 'anonymous:aaaaaaaa1' }, /reserved/],
    [{ API_KEYS: 'a:samekey123', ADMIN_API_KEYS: 'b:samekey123' }, /configured twice/],
    [{ API_KEYS_FILE: '/nonexistent/keys' }, /API_KEYS_FILE cannot be read/],
  ])('refuses %j', (env, message) => {
    expect(() => registry(env as Record<string, string>)).toThrow(message);
  });

  it('serves without keys only when ALLOW_ANONYMOUS is set', () => {
    const keys = registry({ ALLOW_ANONYMOUS: 'true' });
    expect(keys.allowAnonymous).toBe(true);
    expect(keys.size).toBe(0);
  });
});
