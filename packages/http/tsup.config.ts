import { defineConfig } from 'tsup';
import shared from '../../tsup.config.js';

// The shared build, with one entry per subpath export.
export default defineConfig({
  ...shared,
  entry: ['src/index.ts', 'src/express.ts', 'src/fastify.ts', 'src/hono.ts', 'src/fetch.ts'],
});
