// The reader's language (en | zh) for the texts huoyan writes: findings, their labels and the
// report's headings. One reactive value shared by every view; a choice made with the switch is
// kept in localStorage, so it survives reloads and applies to the served UI and to reports
// opened from disk alike. Without a stored choice: the caller's default, else the browser's.
import { ref } from 'vue';

// Labels in Latin letters: the header must render without a CJK font (the logo is outlines
// for the same reason); the Chinese name is the tooltip.
export const LANGS = [
  { id: 'en', label: 'EN', title: 'English' },
  { id: 'zh', label: 'ZH', title: '中文' },
];
const KEY = 'huoyan.lang';
const valid = (l) => l === 'en' || l === 'zh';

function stored() {
  try {
    const l = localStorage.getItem(KEY);
    return valid(l) ? l : null;
  } catch {
    return null; // storage disabled (privacy settings, some file:// policies)
  }
}

const browser = () => ((navigator.language || 'en').toLowerCase().startsWith('zh') ? 'zh' : 'en');

export const lang = ref(stored() || browser());

// A page with its own default (the report's --lang) applies it unless the reader chose already.
export function setDefaultLang(l) {
  if (valid(l) && !stored()) lang.value = l;
}

export function setLang(l) {
  if (!valid(l)) return;
  lang.value = l;
  try {
    localStorage.setItem(KEY, l);
  } catch {
    // not remembered, still applied
  }
}
