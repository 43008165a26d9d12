import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

// The template of `huoyan analyze --format html`: report.html with every script and style
// inlined, so the written report is one file that needs no server and makes no request. The
// served UI's components are shared (src/); only the entry differs. huoyan fills the
// <!--huoyan:data--> marker with the report's JSON.

// `</script` or `</style` inside inlined code would end its element early; `<\/` means the same
// to JS and CSS string literals, regexes and comments, where alone such text can occur.
const closeTag = (code, tag) => code.replaceAll(`</${tag}`, `<\\/${tag}`);

function inlineAll() {
  return {
    name: 'huoyan-inline-report',
    enforce: 'post',
    generateBundle(_, bundle) {
      const page = bundle['report.html'];
      let html = String(page.source);
      for (const [file, item] of Object.entries(bundle)) {
        if (file === 'report.html') continue;
        const ref = new RegExp(`<(script|link)[^>]*(src|href)="[^"]*${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"[^>]*>(</script>)?`);
        if (!ref.test(html)) throw new Error(`report build: ${file} is not referenced by report.html`);
        if (item.type === 'chunk') {
          html = html.replace(ref, () => `<script type="module">${closeTag(item.code, 'script')}</script>`);
        } else if (file.endsWith('.css')) {
          html = html.replace(ref, () => `<style>${closeTag(String(item.source), 'style')}</style>`);
        } else {
          throw new Error(`report build: cannot inline ${file}`);
        }
        delete bundle[file];
      }
      page.source = html;
    },
  };
}

export default defineConfig({
  plugins: [vue(), inlineAll()],
  base: './',
  publicDir: false,
  build: {
    outDir: process.env.HUOYAN_REPORT_OUTDIR || 'dist-report',
    emptyOutDir: true,
    modulePreload: false,
    cssCodeSplit: false,
    assetsInlineLimit: Number.MAX_SAFE_INTEGER, // images and fonts become data: URLs
    chunkSizeWarningLimit: 1024,
    reportCompressedSize: false,
    rollupOptions: {
      input: 'report.html',
      output: { codeSplitting: false },
    },
  },
});
