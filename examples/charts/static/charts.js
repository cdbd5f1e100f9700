// Fetch the series from /api/sales and draw it with Chart.js; the PNG follows the same input.
let chart = null;
async function show(months) {
  const error = document.getElementById("error");
  const response = await fetch(`/api/sales?months=${encodeURIComponent(months)}`);
  const data = await response.json();
  if (!response.ok) {
    error.textContent = data.error;
    return;
  }
  error.textContent = "";
  if (chart) chart.destroy();
  chart = new Chart(document.getElementById("chart"), {
    type: "bar",
    data: { labels: data.labels, datasets: [{ label: "sales", data: data.values }] },
    options: { animation: false },
  });
  document.getElementById("png").src = `/chart.png?months=${encodeURIComponent(months)}`;
  document.body.dataset.points = String(data.values.length);
}
document.getElementById("controls").addEventListener("submit", (event) => {
  event.preventDefault();
  show(document.getElementById("months").value);
});
show(12);
