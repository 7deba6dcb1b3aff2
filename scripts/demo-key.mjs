// Makes a deployment's demo API key, so that no fixed, publicly known key is ever served:
//
//   node scripts/demo-key.mjs <dir>
//
// writes <dir>/demo-key (the key alone, for the person trying the API out) and
// <dir>/api-keys (`demo:<key>`, for the API's API_KEYS_FILE). The key is random and made
// once: later runs keep it. With SKIP_DEMO_KEY=true (the deployment brings its own keys)
// <dir>/api-keys holds no key, so the API serves only those. It also makes, once, the
// admin password of the observability profile's Grafana (<dir>/grafana-admin-password),
// so that no default password is served either. docker compose runs this as its one-shot
// `keygen` service; it works the same without Docker. Nothing secret is ever printed.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A key API_KEYS accepts: 8–256 characters, no spaces, commas or colons. */
const VALID_KEY = /^[^\s,:]{8,256}$/;

const dir = process.argv[2];
if (!dir) {
  console.error('Usage: node scripts/demo-key.mjs <directory>');
  process.exit(2);
}
mkdirSync(dir, { recursive: true });

/**
 * Replaces a file in one step; by default readable only by its owner (the API runs as the
 * same user).
 */
function writeAtomically(path, text, mode = 0o400) {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, text, { mode });
  renameSync(temporary, path);
}

function existingKey(path) {
  try {
    const key = readFileSync(path, 'utf8').trim();
    return VALID_KEY.test(key) ? key : undefined;
  } catch {
    return undefined;
  }
}

/** The secret kept in `path`, or a new random one written there. */
function madeOnce(path, mode) {
  const kept = existingKey(path);
  if (kept) return kept;
  const made = randomBytes(24).toString('base64url');
  writeAtomically(path, `${made}\n`, mode);
  return made;
}

const keyFile = join(dir, 'demo-key');
const key = madeOnce(keyFile);
// Grafana runs as a user of its own image: the file is readable by others, in a volume
// mounted only into the API and Grafana.
madeOnce(join(dir, 'grafana-admin-password'), 0o444);

if (process.env.SKIP_DEMO_KEY === 'true') {
  writeAtomically(join(dir, 'api-keys'), '# No demo key: this deployment sets API_KEYS.\n');
  console.log('Demo key not served: API_KEYS is set');
} else {
  writeAtomically(join(dir, 'api-keys'), `# The demo key of this deployment, made once at random.\ndemo:${key}\n`);
  console.log(`Demo API key ready in ${keyFile} (principal "demo")`);
}
