// Draw the dashboard's two charts from the JSON the page carries; the tables beside
// them hold the same figures for screen readers and for anyone without scripts.
(function () {
  "use strict";
  var source = document.getElementById("chart-data");
  if (!source || typeof Chart === "undefined") { return; }
  var d = JSON.parse(source.textContent);
  if (!d.labels.length) { return; }
  var flat = function (value) { return d.labels.map(function () { return value; }); };
  var common = { animation: false, responsive: true, maintainAspectRatio: false,
                 interaction: { mode: "index", intersect: false } };
  var stock = document.getElementById("stock-chart");
  if (stock) {
    new Chart(stock, {
      type: "line",
      data: { labels: d.labels, datasets: [
        { label: d.text.stock, data: d.stock, yAxisID: "y", borderColor: "#1a5fb4", backgroundColor: "#1a5fb4" },
        { label: d.text.cover, data: d.cover, yAxisID: "y1", borderColor: "#c64600", backgroundColor: "#c64600", borderDash: [6, 3] },
        { label: d.text.cover_limit, data: flat(d.cover_limit), yAxisID: "y1", borderColor: "#a51d2d", pointRadius: 0, borderWidth: 1 }
      ] },
      options: Object.assign({}, common, { scales: {
        y: { position: "left", title: { display: true, text: d.text.stock }, beginAtZero: true },
        y1: { position: "right", title: { display: true, text: d.text.cover }, beginAtZero: true, grid: { drawOnChartArea: false } }
      } })
    });
  }
  var price = document.getElementById("price-chart");
  if (price) {
    new Chart(price, {
      type: "line",
      data: { labels: d.labels, datasets: [
        { label: d.text.price, data: d.price, borderColor: "#1a5fb4", backgroundColor: "#1a5fb4" },
        { label: d.text.baseline, data: flat(d.baseline), borderColor: "#2b7a0b", pointRadius: 0, borderDash: [4, 4] },
        { label: d.text.limit, data: flat(d.price_limit), borderColor: "#a51d2d", pointRadius: 0, borderWidth: 2 }
      ] },
      options: common
    });
  }
})();
