import { defineConfig } from 'tsup';

/** One build for every published package: ESM, declarations, Node 20. Each package's `tsup.config.ts` re-exports this. */
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  target: 'node20',
  dts: true,
  clean: true,
  sourcemap: true,
  // Declarations from the package's own sources only (the root tsconfig sees the whole repository,
  // including other packages' dist, which their parallel builds delete).
  tsconfig: 'tsconfig.build.json',
});
