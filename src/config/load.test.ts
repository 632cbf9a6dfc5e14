import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  InvalidConfigError,
  loadConfig,
  maskSecrets,
  parseDuration,
  splitSourceSecrets,
  type Config,
  type ConfigProblem,
} from './index.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'certhub-config-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function problemsOf(run: () => unknown): ConfigProblem[] {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidConfigError);
    const error = err as InvalidConfigError;
    expect(error.code).toBe('invalid_config');
    return error.details;
  }
  throw new Error('expected the configuration to be refused');
}

const lines = (problems: ConfigProblem[]): string[] => problems.map((p) => `${p.path}: ${p.message}`);

const FULL = `
database: sqlite:./db/hub.db
listen: { host: 0.0.0.0, port: 8080 }
sources:
  - id: frontcore-main
    provider: frontcore
    base_url: https://api.frontcore.com
    api_key: \${FRONTCORE_API_KEY}
    rate_limit: { requests: 5, per_seconds: 1 }
    sync_every: 15m
  - id: falkor
    provider: falkor
    base_url: https://acme.example-falkor.com/api
    token: \${FALKOR_TOKEN}
    enabled: false
  - id: edx
    provider: openedx
    tenant: acme
    base_url: https://credentials.example.org
    oauth: { token_url: https://lms.example.org/oauth2/access_token,
             client_id: \${EDX_CLIENT_ID}, client_secret: \${EDX_CLIENT_SECRET} }
  - id: springest-nl
    provider: springest
    base_url: https://api.springest.nl
    api_key: \${SPRINGEST_API_KEY}
    certifications_api_key: \${SPRINGEST_CERTIFICATIONS_KEY:-certs-default}
`;

const FULL_ENV = {
  FRONTCORE_API_KEY: 'fc-secret',
  FALKOR_TOKEN: 'falkor-secret',
  EDX_CLIENT_ID: 'edx-id',
  EDX_CLIENT_SECRET: 'edx-secret',
  SPRINGEST_API_KEY: 'sp-secret',
};

describe('loadConfig: where the file comes from', () => {
  it('falls back to the embedded default when there is no file', () => {
    const config = loadConfig({ cwd: dir, env: {} });
    expect(config).toEqual<Config>({
      file: null,
      database: `sqlite:${join(dir, 'data', 'certhub.db')}`,
      dataDir: join(dir, 'data'),
      listen: { host: '127.0.0.1', port: 3000 },
      sources: [],
      pushRules: [],
      outbound: { allowPrivate: false, allow: [] },
      logLevel: 'info',
    });
  });

  it('reads ./certhub.yaml when present, CERTHUB_CONFIG over it, and --config over both', () => {
    write('certhub.yaml', 'listen: { port: 1001 }\n');
    write('env.yaml', 'listen: { port: 1002 }\n');
    write('flag.yaml', 'listen: { port: 1003 }\n');
    expect(loadConfig({ cwd: dir, env: {} }).listen.port).toBe(1001);
    expect(loadConfig({ cwd: dir, env: { CERTHUB_CONFIG: 'env.yaml' } }).listen.port).toBe(1002);
    const viaFlag = loadConfig({ cwd: dir, env: { CERTHUB_CONFIG: 'env.yaml' }, path: 'flag.yaml' });
    expect(viaFlag.listen.port).toBe(1003);
    expect(viaFlag.file).toBe(join(dir, 'flag.yaml'));
  });

  it('refuses a named file that does not exist', () => {
    expect(() => loadConfig({ cwd: dir, env: {}, path: 'nope.yaml' })).toThrow(/cannot read config file .*nope\.yaml: no such file/);
  });

  it('treats an empty file as the default configuration', () => {
    write('certhub.yaml', '# nothing yet\n');
    expect(loadConfig({ cwd: dir, env: {} }).sources).toEqual([]);
  });
});

describe('loadConfig: a complete file', () => {
  it('resolves every provider with its defaults', () => {
    const config = loadConfig({ cwd: dir, env: FULL_ENV, path: write('certhub.yaml', FULL) });
    expect(config.database).toBe(`sqlite:${join(dir, 'db', 'hub.db')}`);
    expect(config.dataDir).toBe(join(dir, 'db'));
    expect(config.listen).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(config.sources).toEqual([
      {
        id: 'frontcore-main',
        provider: 'frontcore',
        tenant: 'default',
        enabled: true,
        base_url: 'https://api.frontcore.com',
        api_key: 'fc-secret',
        timezone: 'Europe/Oslo',
        rate_limit: { requests: 5, per_seconds: 1 },
        sync_every_ms: 15 * 60_000,
      },
      {
        id: 'falkor',
        provider: 'falkor',
        tenant: 'default',
        enabled: false,
        base_url: 'https://acme.example-falkor.com/api',
        token: 'falkor-secret',
        sync_every_ms: 3_600_000,
      },
      {
        id: 'edx',
        provider: 'openedx',
        tenant: 'acme',
        enabled: true,
        base_url: 'https://credentials.example.org',
        oauth: {
          token_url: 'https://lms.example.org/oauth2/access_token',
          client_id: 'edx-id',
          client_secret: 'edx-secret',
        },
        sync_every_ms: 3_600_000,
      },
      {
        id: 'springest-nl',
        provider: 'springest',
        tenant: 'default',
        enabled: true,
        base_url: 'https://api.springest.nl',
        api_key: 'sp-secret',
        certifications_api_key: 'certs-default',
        sync_every_ms: 3_600_000,
      },
    ]);
  });

  it('lets the environment override the database and carry the secret key and log level', () => {
    const config = loadConfig({
      cwd: dir,
      env: {
        ...FULL_ENV,
        CERTHUB_DATABASE_URL: 'postgres://certhub:pw@db.internal:5432/certhub',
        CERTHUB_SECRET_KEY: 'c2VjcmV0',
        CERTHUB_LOG_LEVEL: 'debug',
      },
      path: write('certhub.yaml', FULL),
    });
    expect(config.database).toBe('postgres://certhub:pw@db.internal:5432/certhub');
    expect(config.dataDir).toBeNull();
    expect(config.secretKey).toBe('c2VjcmV0');
    expect(config.logLevel).toBe('debug');
  });

  it('accepts numbers and booleans that come from ${VAR}', () => {
    const path = write('certhub.yaml', 'listen: { port: "${PORT}" }\n');
    expect(loadConfig({ cwd: dir, env: { PORT: '4000' }, path }).listen.port).toBe(4000);
  });

  it('keeps $${ as a literal ${', () => {
    const path = write(
      'certhub.yaml',
      'sources:\n  - { id: f, provider: falkor, base_url: "https://x.example", token: "a$${B}c" }\n',
    );
    const source = loadConfig({ cwd: dir, env: {}, path }).sources[0];
    expect(source?.provider === 'falkor' && source.token).toBe('a${B}c');
  });
});

describe('loadConfig: refusing a bad file', () => {
  it('lists every problem by its path, in file order, in one error', () => {
    const path = write(
      'bad.yaml',
      `
database: mysql://localhost/x
listen: { port: 70000 }
colour: blue
sources:
  - id: Front_Main
    provider: frontcore
    base_url: https://api.frontcore.com
    api_key: k
    timezone: Mars/Olympus
  - id: falkor
    provider: falkor
    base_url: https://acme.example.com
    tokne: abc
  - id: springest
    provider: springest
    base_url: api.springest.nl
    api_key: k
    sync_every: soon
  - id: falkor
    provider: moodle
  - id: edx
    provider: openedx
    base_url: https://credentials.example.org
    oauth: { token_url: https://lms.example.org/token, client_id: a }
    rate_limit: { requests: 0, per_seconds: 1 }
`,
    );
    expect(lines(problemsOf(() => loadConfig({ cwd: dir, env: { CERTHUB_LOG_LEVEL: 'loud' }, path })))).toEqual([
      'database: must be sqlite:<file> or postgres://user@host:5432/db',
      'listen.port: must be at most 65535',
      'colour: unknown key',
      'sources[0].id: must use only a-z, 0-9 and - (and not start with -)',
      'sources[0].timezone: must be an IANA time zone like Europe/Oslo',
      'sources[1].token: is required',
      'sources[1].tokne: unknown key',
      'sources[2].base_url: must be an http(s) URL',
      'sources[2].sync_every: must be a duration of at least 1m, like 15m or 1h',
      'sources[3].id: "falkor" is already used by sources[1]',
      'sources[3].provider: must be one of frontcore, falkor, openedx, springest',
      'sources[4].oauth.client_secret: is required',
      'sources[4].rate_limit.requests: must be at least 1',
      'CERTHUB_LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent',
    ]);
  });

  it('names a missing ${VAR} and where it was used, and every other missing one too', () => {
    const path = write(
      'certhub.yaml',
      `sources:
  - { id: fc, provider: frontcore, base_url: "\${FC_URL:-https://api.frontcore.com}", api_key: "\${FRONTCORE_API_KEY}" }
  - { id: sp, provider: springest, base_url: https://api.springest.nl, api_key: "\${SPRINGEST_API_KEY}" }
`,
    );
    expect(lines(problemsOf(() => loadConfig({ cwd: dir, env: { SPRINGEST_API_KEY: '' }, path })))).toEqual([
      'sources[0].api_key: environment variable FRONTCORE_API_KEY is not set',
      'sources[1].api_key: environment variable SPRINGEST_API_KEY is empty',
    ]);
  });

  it('refuses malformed references', () => {
    const path = write('certhub.yaml', 'database: "${not valid}"\nlisten:\n  host: "${HOST"\n');
    expect(lines(problemsOf(() => loadConfig({ cwd: dir, env: {}, path })))).toEqual([
      'database: "${not valid}" is not a valid reference (use ${NAME} or ${NAME:-default})',
      'listen.host: has "${" without a closing "}" (write $${ for a literal ${)',
    ]);
  });

  it('reports YAML syntax errors with line and column', () => {
    const path = write('broken.yaml', 'listen: { port: 3000 }\n\nsources: a: b\n');
    expect(lines(problemsOf(() => loadConfig({ cwd: dir, env: {}, path })))).toEqual([
      'broken.yaml:3:10: Nested mappings are not allowed in compact mappings',
    ]);
  });

  it('finding 17: refuses a YAML alias bomb as a problem of the file, without expanding it', () => {
    const levels = ['a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]'];
    for (let i = 1; i < 9; i++) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
    const path = write('bomb.yaml', `${levels.join('\n')}\n`);
    const problems = problemsOf(() => loadConfig({ cwd: dir, env: {}, path }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ path: 'bomb.yaml', message: expect.stringMatching(/alias/i) as string });
  });

  it('reads push_rules, with the tenant defaulted, and names what is wrong in one', () => {
    const good = write(
      'certhub.yaml',
      `sources:
  - { id: sp, provider: springest, base_url: https://api.springest.nl, api_key: k }
push_rules:
  - name: Safety to Springest
    match: { achievement: { source: fc, external_id: "44724" } }
    target_source: sp
    target: { certification_id: 42 }
`,
    );
    const config = loadConfig({ cwd: dir, env: {}, path: good });
    expect(config.pushRules).toEqual([
      {
        name: 'Safety to Springest',
        tenant: 'default',
        paused: false,
        match: { achievement: { source: 'fc', external_id: '44724' } },
        sources: [],
        target_source: 'sp',
        target: { certification_id: 42 },
        usernames: {},
      },
    ]);
    const bad = write('bad.yaml', 'push_rules:\n  - name: x\n    match: { achievement: { source: fc } }\n    target: {}\n');
    const problems = lines(problemsOf(() => loadConfig({ cwd: dir, env: {}, path: bad })));
    expect(problems.some((p) => p.startsWith('push_rules[0].target_source'))).toBe(true);
    expect(problems.some((p) => p.startsWith('push_rules[0].match'))).toBe(true);
  });

  it('refuses duplicate keys', () => {
    const path = write('certhub.yaml', 'listen: { port: 1 }\nlisten: { port: 2 }\n');
    expect(problemsOf(() => loadConfig({ cwd: dir, env: {}, path }))[0]?.message).toMatch(/unique/i);
  });

  it('refuses a source of the wrong shape, and a bad CERTHUB_DATABASE_URL', () => {
    const path = write('certhub.yaml', 'sources:\n  - just-a-string\nlisten: 3000\n');
    expect(lines(problemsOf(() => loadConfig({ cwd: dir, env: { CERTHUB_DATABASE_URL: 'mysql://x' }, path })))).toEqual([
      'sources[0]: must be a mapping',
      'listen: must be a mapping like { host: 127.0.0.1, port: 3000 }',
      'CERTHUB_DATABASE_URL: must be sqlite:<file> or postgres://user@host:5432/db',
    ]);
  });

  it('allows the same source id in two tenants', () => {
    const path = write(
      'certhub.yaml',
      `sources:
  - { id: falkor, provider: falkor, base_url: https://a.example, token: t }
  - { id: falkor, tenant: other, provider: falkor, base_url: https://b.example, token: t }
`,
    );
    expect(loadConfig({ cwd: dir, env: {}, path }).sources).toHaveLength(2);
  });
});

describe('secrets', () => {
  const env = { ...FULL_ENV, CERTHUB_SECRET_KEY: 'the-key', CERTHUB_DATABASE_URL: 'postgres://u:dbpass@h:5432/d' };

  it('masks every credential for printing and leaves the rest alone', () => {
    const config = loadConfig({ cwd: dir, env, path: write('certhub.yaml', FULL) });
    const printed = JSON.stringify(maskSecrets(config));
    for (const secret of ['fc-secret', 'falkor-secret', 'edx-id', 'edx-secret', 'sp-secret', 'certs-default', 'the-key', 'dbpass']) {
      expect(printed).not.toContain(secret);
    }
    expect(printed).toContain('https://api.frontcore.com');
    expect(maskSecrets(config).database).toBe('postgres://u:***@h:5432/d');
    expect(maskSecrets(config).secretKey).toBe('***');
    // The original is untouched.
    expect(config.secretKey).toBe('the-key');
  });

  it('splits a source into stored settings and encrypted credentials', () => {
    const config = loadConfig({ cwd: dir, env, path: write('certhub.yaml', FULL) });
    const edx = config.sources.find((s) => s.id === 'edx');
    expect(edx && splitSourceSecrets(edx)).toEqual({
      settings: {
        base_url: 'https://credentials.example.org',
        oauth: { token_url: 'https://lms.example.org/oauth2/access_token' },
        sync_every_ms: 3_600_000,
      },
      credentials: { oauth: { client_id: 'edx-id', client_secret: 'edx-secret' } },
    });
  });
});

describe('parseDuration', () => {
  it('reads units and combinations', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('15')).toBeNull();
    expect(parseDuration('m')).toBeNull();
  });
});

describe('issue 13: outbound and the limits of a source', () => {
  const falkor = (extra: string, url = 'https://acme.example-falkor.com/api') => `
sources:
  - id: falkor
    provider: falkor
    base_url: ${url}
    token: t0k3n
${extra}`;

  it('finding 2: outbound refuses private addresses unless allow_private or allow says otherwise', () => {
    expect(loadConfig({ cwd: dir, env: {}, path: write('o1.yaml', falkor('')) }).outbound).toEqual({ allowPrivate: false, allow: [] });
    const path = write('o2.yaml', `${falkor('')}\noutbound: { allow_private: true, allow: [10.20.0.0/16, lms.intra.example, 'fd12::/48'] }\n`);
    expect(loadConfig({ cwd: dir, env: {}, path }).outbound).toEqual({ allowPrivate: true, allow: ['10.20.0.0/16', 'lms.intra.example', 'fd12::/48'] });
    const bad = write('o3.yaml', `outbound: { allow_private: maybe, allow: [10.0.0.0/99, 'not a host'], nope: 1 }\n`);
    expect(lines(problemsOf(() => loadConfig({ cwd: dir, env: {}, path: bad })))).toEqual([
      'outbound.allow_private: must be true or false',
      'outbound.allow[0]: must be a CIDR like 10.20.0.0/16, an address, or a host name',
      'outbound.allow[1]: must be a CIDR like 10.20.0.0/16, an address, or a host name',
      'outbound.nope: unknown key',
    ]);
  });

  it('finding 2: a # in a URL is refused', () => {
    const path = write('hash.yaml', falkor('', 'https://acme.example-falkor.com/api#/internal'));
    expect(lines(problemsOf(() => loadConfig({ cwd: dir, env: {}, path })))).toEqual(['sources[0].base_url: must not contain # (a fragment): give the URL without it']);
  });

  it('finding 1: user:password@ in a URL is a credential, refused', () => {
    const path = write('userinfo.yaml', falkor('', 'https://user:pass@acme.example-falkor.com/api'));
    expect(lines(problemsOf(() => loadConfig({ cwd: dir, env: {}, path })))).toEqual([
      'sources[0].base_url: must not contain a user name or password (user:password@): put credentials in their own fields',
    ]);
  });

  it('finding 2: sync_every has a floor of 1m, rate_limit a ceiling of 100 requests per second', () => {
    const path = write('limits.yaml', falkor('    sync_every: 1s\n    rate_limit: { requests: 1000000, per_seconds: 1 }'));
    expect(lines(problemsOf(() => loadConfig({ cwd: dir, env: {}, path })))).toEqual([
      'sources[0].sync_every: must be a duration of at least 1m, like 15m or 1h',
      'sources[0].rate_limit: must be at most 100 requests per second',
    ]);
    const ok = write('limits-ok.yaml', falkor('    sync_every: 1m\n    rate_limit: { requests: 6000, per_seconds: 60 }'));
    expect(loadConfig({ cwd: dir, env: {}, path: ok }).sources[0]).toMatchObject({ sync_every_ms: 60_000, rate_limit: { requests: 6000, per_seconds: 60 } });
  });
});
