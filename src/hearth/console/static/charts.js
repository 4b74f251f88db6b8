// The overview's charts, drawn with uPlot from the series the page carries.
(function () {
  const series = JSON.parse(document.getElementById("series").textContent);
  const days = series.days.map((day) => Date.parse(day + "T12:00:00Z") / 1000);
  const colours = ["#2563eb", "#16a34a", "#9333ea", "#f59e0b", "#ef4444", "#6b7280"];
  function width(element) {
    return Math.max(280, element.clientWidth || 600);
  }
  function draw(id, lines) {
    const element = document.getElementById(id);
    if (!element) return;
    const options = {
      width: width(element),
      height: 220,
      series: [{}].concat(lines.map((line, index) => ({
        label: line.label,
        stroke: colours[index % colours.length],
        width: 2,
      }))),
      axes: [{}, {}],
    };
    const chart = new uPlot(options, [days].concat(lines.map((line) => line.values)), element);
    element.dataset.drawn = "yes";
    window.addEventListener("resize", () => chart.setSize({ width: width(element), height: 220 }));
  }
  draw("active-chart", [{ label: document.getElementById("active-chart").dataset.label || "active", values: series.active }]);
  const names = {};
  document.querySelectorAll("#stage-names [data-stage]").forEach((element) => {
    names[element.dataset.stage] = element.textContent.trim();
  });
  draw("stage-chart", Object.keys(series.stages).map((stage) => ({
    label: names[stage] || stage,
    values: series.stages[stage],
  })));
})();
