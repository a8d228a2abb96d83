import { withRateLimit } from '@periodkey/http/fetch';
import { NextResponse } from 'next/server';
import { limiter } from './lib/limiter';

// A passing request goes on to its route, with the rate-limit headers; a denied one gets the 429 here.
export const proxy = withRateLimit(() => NextResponse.next(), {
  limiter,
  scope: '/limited',
  identify: (request) => request.headers.get('x-user-id') ?? undefined,
});

export const config = { matcher: '/limited/:path*' };
