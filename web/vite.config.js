import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

// The output directory can be redirected (CMake builds into its own binary dir)
// either with `vite build --outDir <dir>` or with HUOYAN_WEB_OUTDIR, so a build
// never writes into the source tree unless asked to.
export default defineConfig({
  plugins: [vue()],
  base: './',
  build: {
    outDir: process.env.HUOYAN_WEB_OUTDIR || 'dist',
    emptyOutDir: true,
    // One JS and one CSS file keep the embedded asset table small and the
    // first load to two requests; the whole UI is well under the warning size.
    chunkSizeWarningLimit: 1024,
    reportCompressedSize: false,
  },
  server: {
    // `npm run dev` proxies the API to a running `huoyan serve` or the fixture server.
    proxy: { '/api': process.env.HUOYAN_URL || 'http://127.0.0.1:8765' },
  },
});
