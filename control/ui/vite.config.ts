// Vite builds the single-page app. `cargo build` (control/whippet/build.rs)
// runs `npm run build` with WHIPPET_UI_OUT set to `$OUT_DIR/ui`, so the
// output never lands in the source tree; a plain `npm run build` writes to
// dist/. `npm run dev` serves the app with hot reload and sends /api to a
// `whippet serve` on 127.0.0.1:8080.
import { defineConfig } from 'vite';

export default defineConfig({
  // Preact's JSX runtime, through Vite's own transform (no Babel plugin).
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: process.env.WHIPPET_UI_OUT || 'dist',
    emptyOutDir: true,
    // Every browser a laptop runs today; no legacy transforms.
    target: 'es2022',
    // The server gzips nothing itself: scripts/compress.mjs writes a .gz
    // beside each file. Sizes are reported there.
    reportCompressedSize: false,
  },
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
});
