import { withRateLimit } from '@periodkey/http/fetch';
import { limiter } from '../../../lib/limiter';

// The edge runtime: its bundle holds no Node built-in, so this route proves the core needs none.
export const runtime = 'edge';

export const GET = withRateLimit(() => Response.json({ hello: 'route handler' }), {
  limiter,
  scope: '/api/limited',
  identify: (request) => request.headers.get('x-user-id') ?? undefined,
});
