import { defineConfig } from 'tsup';
import root from '../../tsup.config.js';

// The root build, plus the prom-client integration as its own entry (`@periodkey/ratelimit/prometheus`),
// so that the core never loads prom-client.
export default defineConfig({ ...root, entry: ['src/index.ts', 'src/prometheus.ts'] });
