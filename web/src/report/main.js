// Entry of the self-contained report: the data is the JSON block huoyan wrote into this file
// (<script type="application/json" id="huoyan-data">), never a request.
import { createApp, h } from 'vue';
import ReportApp from './ReportApp.vue';
import { TEXT } from './text.js';
import '../styles.css';
import './report.css';

function readData() {
  const el = document.getElementById('huoyan-data');
  if (!el) return null;
  try {
    return JSON.parse(el.textContent);
  } catch {
    return null;
  }
}

const data = readData();
if (data) {
  createApp(ReportApp, { data }).mount('#app');
} else {
  createApp({ render: () => h('p', { class: 'report-nodata' }, TEXT.en.noData) }).mount('#app');
}
