import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_REDIS_URL, Environment, environmentVariableNames } from '@report-jobs/config';

// The README's configuration table is what a newcomer sets the apps up from: it must name
// every variable the apps read, once, with the default the schema applies.
const README = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');

/** The rows of the table under "## Configure it": variable name and default, as written. */
function configurationTable(): Array<{ name: string; defaultText: string }> {
  const start = README.indexOf('\n## Configure it\n');
  const end = README.indexOf('\n## ', start + 1);
  const section = README.slice(start, end);
  return [...section.matchAll(/^\| `([A-Z0-9_]+)` \| ([^|]+) \|/gm)].map(([, name, defaultText]) => ({ name, defaultText: defaultText.trim() }));
}

describe('the README configuration table', () => {
  const rows = configurationTable();

  it('lists every variable the apps read, each once, and no other', () => {
    const names = rows.map((row) => row.name);
    expect(names.filter((name, i) => names.indexOf(name) !== i)).toEqual([]);
    expect([...names].sort()).toEqual([...environmentVariableNames()].sort());
  });

  it("gives each variable the schema's default", () => {
    const schemaDefaults = Object.entries(new Environment()).filter(([, value]) => value !== undefined);
    const defaults: Record<string, unknown> = { ...Object.fromEntries(schemaDefaults), REDIS_URL: DEFAULT_REDIS_URL };
    const written = Object.fromEntries(rows.filter((row) => row.name in defaults).map((row) => [row.name, row.defaultText]));
    const expected = Object.fromEntries(Object.keys(written).map((name) => [name, `\`${String(defaults[name])}\``]));
    expect(written).toEqual(expected);
    expect(Object.keys(written).sort()).toEqual(Object.keys(defaults).sort());
  });
});
