import { defineConfig } from 'tsup';
import base from '../../tsup.config.ts';

// The shared build, plus the `periodkey` executable.
export default defineConfig({ ...base, entry: ['src/index.ts', 'src/bin.ts'] });
