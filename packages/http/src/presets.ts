/**
 * The limits of the table "Recommended Limits" that services already use (per client, per 60 s), as rules to
 * pass to `rules` or to spread into your own: `{ ...presets.read, monthly: '10000/month' }`. Each is one
 * calendar minute: it resets at second 0 of every minute. The rule is named after the preset, so the
 * headers read `RateLimit-Policy: "read";q=100;w=60`.
 */
export const presets = {
  /** Reads (GET): frequent data fetching. */
  read: { read: '100/minute' },
  /** Writes (POST, PUT, PATCH, DELETE): no data spam. */
  write: { write: '50/minute' },
  /** Login, MFA, password reset: brute-force protection. */
  auth: { auth: '5/minute' },
  /** Unauthenticated endpoints: conservative. */
  public: { public: '10/minute' },
  /** Health checks and metrics: lenient. */
  health: { health: '1000/minute' },
} as const;

/** The name of a preset: `'read' | 'write' | 'auth' | 'public' | 'health'`. */
export type PresetName = keyof typeof presets;
