// The console's only script: the rule form's preview follows the message and button as typed.
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const text = $("f-message_text");
  const label = $("f-cta_label");
  const url = $("f-cta_url");
  const shown = $("pv-text");
  const cta = $("pv-cta");
  if (!text || !shown || !cta) return;
  function update() {
    shown.textContent = text.value; // text only: what the widget does with a rule's message
    const name = (label && label.value.trim()) || "";
    cta.textContent = name;
    cta.hidden = !name;
    cta.title = (url && url.value.trim()) || "";
  }
  for (const field of [text, label, url]) if (field) field.addEventListener("input", update);
  cta.addEventListener("click", (e) => e.preventDefault());
  update();
})();
