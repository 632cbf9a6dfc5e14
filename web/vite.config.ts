import { defineConfig } from 'vite';

// The UI is plain React + TypeScript; Oxc (inside Vite 8) compiles TSX with the automatic JSX runtime, so no
// framework plugin is needed.
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // The first page loads one script; keep it small (the issue: under 250 KB gzipped).
    chunkSizeWarningLimit: 600,
  },
  server: { proxy: { '/v1': 'http://127.0.0.1:3000' } },
});
