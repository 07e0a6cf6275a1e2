/* Draws the dashboards' charts with ECharts from the figures the page carries in json_script tags
   (<div class="chart" data-chart="ID"> reads <script id="ID" type="application/json">). No fetches:
   the table beneath each chart holds the same figures. Labels come translated from the server. */
(function () {
  "use strict";
  if (!window.echarts) return;
  var narrow = function () { return window.matchMedia("(max-width: 640px)").matches; };

  function format(unit, value) {
    if (value === null || value === undefined) return "—";
    if (unit === "%") return value + "%";
    if (unit === "¥") return "¥" + Number(value).toLocaleString(undefined, { maximumFractionDigits: 2 });
    return Number(value).toLocaleString();
  }

  function short(unit) {
    return function (value) {
      if (unit === "%") return value + "%";
      var prefix = unit === "¥" ? "¥" : "";
      if (Math.abs(value) >= 1e6) return prefix + (value / 1e6).toLocaleString() + "M";
      if (Math.abs(value) >= 1e3) return prefix + (value / 1e3).toLocaleString() + "k";
      return prefix + Number(value).toLocaleString();
    };
  }

  // Labels wrap within their share of the width; on a phone, many of them turn aslant.
  function categoryAxis(categories, width) {
    var many = categories.length > 5 && narrow();
    var room = Math.max(36, Math.floor((width - 60) / Math.max(categories.length, 1)) - 6);
    return {
      type: "category",
      data: categories,
      axisLabel: many
        ? { interval: 0, rotate: 40, fontSize: 10, width: 90, overflow: "truncate" }
        : { interval: 0, fontSize: narrow() ? 10 : 12, width: room, overflow: "break" },
    };
  }

  function tooltip(units) {
    return {
      trigger: "axis",
      confine: true,
      formatter: function (items) {
        var lines = [items[0].axisValueLabel];
        items.forEach(function (item) {
          lines.push(item.marker + item.seriesName + ": " + format(units[item.seriesIndex], item.value));
        });
        return lines.join("<br>");
      },
    };
  }

  function bar(spec, width) {
    var axes = [];
    spec.series.forEach(function (s) { axes[s.axis] = s.unit; });
    var valueAxes = axes.map(function (unit, n) {
      return { type: "value", position: n === 0 ? (spec.horizontal ? "bottom" : "left") : (spec.horizontal ? "top" : "right"),
               axisLabel: { formatter: short(unit), fontSize: narrow() ? 10 : 12 }, splitLine: { show: n === 0 } };
    });
    var cats = categoryAxis(spec.categories, width);
    if (spec.horizontal) {
      cats.inverse = true;
      cats.axisLabel = { interval: 0, fontSize: narrow() ? 10 : 12, width: Math.floor(width * 0.4), overflow: "truncate" };
    }
    var series = spec.series.map(function (s) {
      var out = { name: s.name, type: "bar", data: s.data, stack: spec.stack ? "all" : undefined };
      out[spec.horizontal ? "xAxisIndex" : "yAxisIndex"] = s.axis;
      return out;
    });
    var option = {
      tooltip: tooltip(spec.series.map(function (s) { return s.unit; })),
      legend: { type: "scroll", top: 0 },
      grid: { left: 8, right: 8, top: 36, bottom: 8, containLabel: true },
      series: series,
    };
    if (spec.colors && spec.colors.length) option.color = spec.colors;
    option[spec.horizontal ? "yAxis" : "xAxis"] = cats;
    option[spec.horizontal ? "xAxis" : "yAxis"] = valueAxes;
    return option;
  }

  function line(spec, width) {
    return {
      tooltip: tooltip(spec.series.map(function (s) { return s.unit; })),
      legend: { type: "scroll", top: 0 },
      grid: { left: 8, right: 8, top: 36, bottom: 8, containLabel: true },
      xAxis: categoryAxis(spec.categories, width),
      yAxis: { type: "value", axisLabel: { formatter: short("%") } },
      series: spec.series.map(function (s) {
        return { name: s.name, type: "line", data: s.data, connectNulls: false, symbolSize: 6 };
      }),
    };
  }

  function heatmap(spec) {
    return {
      tooltip: {
        confine: true,
        formatter: function (item) {
          return spec.y[item.value[1]] + " → " + spec.x[item.value[0]] + ": " +
            format("%", item.value[2]) + " (" + format("", item.value[3]) + ")";
        },
      },
      grid: { left: 8, right: 8, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: spec.x,
               axisLabel: { interval: 0, rotate: narrow() ? 50 : 30, fontSize: narrow() ? 9 : 11 }, splitArea: { show: true } },
      yAxis: { type: "category", data: spec.y, inverse: true, axisLabel: { fontSize: narrow() ? 10 : 12 }, splitArea: { show: true } },
      visualMap: { min: 0, max: 100, show: false, inRange: { color: ["#e3f0fb", "#12355b"] } },
      series: [{
        type: "heatmap",
        data: spec.data,
        label: { show: true, fontSize: narrow() ? 8 : 10, formatter: function (item) { return Math.round(item.value[2]) + "%"; } },
      }],
    };
  }

  var builders = { bar: bar, line: line, heatmap: heatmap };
  var charts = [];
  document.querySelectorAll("[data-chart]").forEach(function (element) {
    var source = document.getElementById(element.getAttribute("data-chart"));
    if (!source) return;
    var spec = JSON.parse(source.textContent);
    var chart = window.echarts.init(element, null, { renderer: "svg" });
    var option = builders[spec.type](spec, element.clientWidth);
    option.animation = false;  // drawn at once: phones, screenshots and printouts see the figures
    chart.setOption(option);
    charts.push(chart);
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
