import type { Migration } from './migration.ts';

/**
 * The web app's accounts: users (scrypt password hashes), login sessions and API tokens (only their SHA-256 is
 * kept, never the secret itself) and failed login attempts (for rate limiting across restarts and processes).
 */
export const webAuth: Migration = {
  version: 10,
  name: 'web-auth',
  sql: (t) => `
CREATE TABLE web_users (
  id ${t.id},
  name TEXT NOT NULL,
  key_name TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  created_at ${t.bigint} NOT NULL,
  updated_at ${t.bigint} NOT NULL
);
CREATE UNIQUE INDEX web_users_name ON web_users (key_name);

CREATE TABLE web_sessions (
  token_hash TEXT NOT NULL PRIMARY KEY,
  user_id ${t.bigint} NOT NULL REFERENCES web_users (id) ON DELETE CASCADE,
  csrf_token TEXT NOT NULL,
  created_at ${t.bigint} NOT NULL,
  expires_at ${t.bigint} NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);
CREATE INDEX web_sessions_expires ON web_sessions (expires_at);

CREATE TABLE web_api_tokens (
  id ${t.id},
  user_id ${t.bigint} NOT NULL REFERENCES web_users (id) ON DELETE CASCADE,
  label TEXT NOT NULL,
  token_hash TEXT NOT NULL,
  created_at ${t.bigint} NOT NULL,
  last_used_at ${t.bigint}
);
CREATE UNIQUE INDEX web_api_tokens_hash ON web_api_tokens (token_hash);
CREATE INDEX web_api_tokens_user ON web_api_tokens (user_id);

CREATE TABLE web_login_attempts (
  id ${t.id},
  attempt_key TEXT NOT NULL,
  attempted_at ${t.bigint} NOT NULL
);
CREATE INDEX web_login_attempts_key ON web_login_attempts (attempt_key, attempted_at);
`,
};
