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

// The usage page's charts: uPlot (served from /console/vendor/) from the #usage-data block.
(() => {
  "use strict";
  const block = document.getElementById("usage-data");
  if (!block || typeof uPlot === "undefined") return;
  const charts = JSON.parse(block.textContent);
  const colours = ["#2456c8", "#d9480f", "#2b8a3e", "#862e9c", "#c2255c", "#0b7285", "#5c940d"];
  const dollars = (v) => (v == null ? "–" : "$" + (v >= 1 ? v.toFixed(2) : v.toFixed(4)));
  charts.forEach((chart, n) => {
    const box = document.getElementById("chart-" + n);
    if (!box || !chart.series.length) return;
    const xs = chart.days.map((d) => Date.parse(d + "T00:00:00Z") / 1000);
    const opts = {
      width: Math.max(280, box.clientWidth),
      height: 220,
      scales: { x: { time: true } },
      axes: [{}, { values: (u, ticks) => ticks.map(dollars), size: 70 }],
      series: [{}].concat(chart.series.map((s, i) => ({
        label: s.name, stroke: colours[i % colours.length], width: 2,
        fill: colours[i % colours.length] + "22", value: (u, v) => dollars(v),
        points: { show: true, size: 5 },
      }))),
    };
    const plot = new uPlot(opts, [xs].concat(chart.series.map((s) => s.usd)), box);
    new ResizeObserver(() => plot.setSize({ width: Math.max(280, box.clientWidth), height: 220 }))
      .observe(box);
  });
})();
