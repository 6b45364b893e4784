// Dash 4's DatePickerRange puts aria-expanded and aria-haspopup on its wrapper <div>, which has no role that
// allows them (axe: aria-allowed-attr); the inputs inside are the controls and keep their own labels. The wrapper
// is made a plain group, and the attributes are taken off again whenever React puts them back.
(function () {
  "use strict";
  const SELECTOR = ".dash-datepicker-input-wrapper";
  function tidy(root) {
    for (const el of root.querySelectorAll ? root.querySelectorAll(SELECTOR) : []) {
      if (el.hasAttribute("aria-expanded")) el.removeAttribute("aria-expanded");
      if (el.hasAttribute("aria-haspopup")) el.removeAttribute("aria-haspopup");
      if (el.getAttribute("role") !== "group") el.setAttribute("role", "group");
    }
  }
  function start() {
    tidy(document);
    new MutationObserver(() => tidy(document)).observe(document.body, {
      subtree: true, childList: true, attributes: true, attributeFilter: ["aria-expanded", "aria-haspopup"],
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
