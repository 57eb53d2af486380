// The pages' one translation module (served by the platform at /common/i18n.js). Each page
// keeps only its own words ({zh: {...}, en: {...}}); labels that config.yaml defines
// (skills, queues, tiers, not-ready reasons, wrap-up codes, ticket categories) arrive from
// the API as {zh, en} pairs and are shown with label().

export function translator(words) {
  function t(lang, key, vars = {}) {
    const text = (words[lang] && words[lang][key]) || words.en[key] || key;
    return text.replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ""));
  }

  function applyWords(lang, root = document) {
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
    for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(lang, el.dataset.i18n);
    for (const el of root.querySelectorAll("[data-i18n-placeholder]")) {
      el.placeholder = t(lang, el.dataset.i18nPlaceholder);
    }
  }

  return { t, applyWords };
}

// A {zh, en} label from config.yaml, in the page's language.
export function label(lang, pair, fallback = "") {
  if (!pair) return fallback;
  return pair[lang] || pair.en || pair.zh || fallback;
}

// A not-ready reason's label from the {reason: {zh, en}} map the API gives.
export function reasonLabel(lang, labels, reason) {
  return label(lang, labels && labels[reason], reason);
}
