import { defineConfig } from 'tsup';
import root from '../../tsup.config.js';

// The root build, plus one entry per subpath export; the prom-client integration is its own entry
// (`@periodkey/ratelimit/prometheus`), so that the core never loads prom-client.
export default defineConfig({
  ...root,
  entry: {
    index: 'src/index.ts',
    store: 'src/stores/index.ts',
    keys: 'src/keys/index.ts',
    storage: 'src/storage/index.ts',
    integration: 'src/integration.ts',
    prometheus: 'src/prometheus.ts',
  },
});
