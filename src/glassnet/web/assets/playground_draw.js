/* The playground's drawing of its state: heatmap, thumbnails, points, losses.
 *
 * Classic script defining GlassnetPlaygroundDraw. create(state) returns draw(),
 * which paints everything from the page's state (the model as the exported page's
 * JSON with the newest weights, the data, the configuration, the losses) with the
 * shared JavaScript forward pass (forward.js) and drawings (views.js).
 */
(function (root) {
  "use strict";
  var THUMB = 20;

  function byId(id) { return document.getElementById(id); }

  /** A loss for the page: 3 decimals, or 3 significant digits below 0.01. */
  function lossText(value) {
    if (typeof value !== "number" || !isFinite(value)) return value === null ? "" : String(value);
    if (value !== 0 && Math.abs(value) < 0.01) return value.toPrecision(3);
    return value.toFixed(3);
  }

  /** "Weight hidden_1: 0 -> 2 = 0.1234" for a hovered connection or bias. */
  function describe(info) {
    var what = info.kind === "weight"
      ? "Weight " + info.layer + ": " + info.from + " \u2192 " + info.to
      : "Bias " + info.layer + ": neuron " + info.to;
    var value = info.value;
    return what + " = " + (typeof value === "number" && isFinite(value) ? value.toFixed(4)
      : String(value));
  }

  function create(P) {
    var F = root.GlassnetForward, V = root.GlassnetViews, PV = root.GlassnetPlaygroundView;

    function regressionScale() {
      if (P.config.dataset !== "upload") return {center: 0, half: 1, unit: 0, lo: -1, hi: 1};
      var lo = Math.min.apply(null, P.data.labels), hi = Math.max.apply(null, P.data.labels);
      return {center: (lo + hi) / 2, half: Math.max((hi - lo) / 2, 1e-12), unit: 0, lo: lo,
        hi: hi};
    }

    function draw() {
      if (!P.model) return;
      var rowOf = PV.featureRow(P.config.features), n = P.model.inputs;
      var weights = P.compiled.stages.reduce(function (s, st) { return s + st.W.length; }, 0);
      var density = weights > 1500 ? 50 : 100;
      var grid = V.gridInputs(P.domain, density, n, rowOf);
      var result = F.run(P.compiled, grid, density * density, P.neuron !== null);
      var output = P.model.output, scale = regressionScale(), colour, caption = "Model output";
      var hovered = null;
      if (P.neuron !== null && P.neuron.stage < P.compiled.stages.length - 1) {
        var stage = P.compiled.stages[P.neuron.stage];
        var shade = V.neuronColourer(result.stages[P.neuron.stage], stage.units, P.neuron.unit);
        colour = shade.colour;
        caption = "Neuron " + P.neuron.unit + " of " + stage.name;
        hovered = {kind: "hidden", top: shade.top};
      } else if (P.neuron !== null) {
        colour = V.outputUnitColourer(output, result.output, result.width, P.neuron.unit);
        caption = "Output unit " + P.neuron.unit;
        hovered = {kind: "output", unit: P.neuron.unit};
      } else {
        var paint = V.outputColourer(output, result.width, P.config.discretize, scale);
        colour = function (index, out) { return paint(result.output, index, out); };
      }
      V.paintGrid(byId("heatmap"), density, colour);
      // an upload's range with its margin is any float (-0.6000000000000001): four
      // significant digits say where the heatmap ends
      var d = P.domain.map(function (pair) {
        return pair.map(function (v) { return String(Number(v.toPrecision(4))); });
      });
      byId("heatmap-caption").textContent = caption + "; " + P.featureLabels.x + " from " +
        d[0][0] + " to " + d[0][1] + ", " + P.featureLabels.y + " from " + d[1][0] +
        " to " + d[1][1];
      drawThumbs(rowOf);
      drawPoints(scale);
      drawLegend(output, scale, hovered);
      byId("epoch-number").textContent = PV.epochText(P.epoch);
      byId("loss-train").textContent = lossText(P.loss_train);
      byId("loss-test").textContent = lossText(P.loss_test);
      byId("accuracy").textContent = P.accuracy_train === null ? "" : "Accuracy: training " +
        (100 * P.accuracy_train).toFixed(1) + "%, test " + (100 * P.accuracy_test).toFixed(1) +
        "%";
      PV.lossChart(byId("loss-chart"), P.history);
      showProbe();
    }

    function drawThumbs(rowOf) {
      var grid = V.gridInputs(P.domain, THUMB, P.model.inputs, rowOf);
      var result = F.run(P.compiled, grid, THUMB * THUMB, true), thumbs = P.diagram.thumbs;
      thumbs.hidden.forEach(function (t) {
        var units = P.compiled.stages[t.stage].units;
        V.paintGrid(t.canvas, THUMB, V.neuronColourer(result.stages[t.stage], units,
          t.unit).colour);
      });
      thumbs.outputs.forEach(function (t) {
        V.paintGrid(t.canvas, THUMB, V.outputUnitColourer(P.model.output, result.output,
          result.width, t.unit));
      });
      thumbs.inputs.forEach(function (t) {
        V.paintGrid(t.canvas, THUMB, V.neuronColourer(grid, P.model.inputs, t.unit).colour);
      });
    }

    function drawPoints(scale) {
      var canvas = byId("heatmap-points"), context = canvas.getContext("2d"), d = P.domain;
      context.clearRect(0, 0, canvas.width, canvas.height);
      var regression = P.model.output.task === "regression";
      P.data.points.forEach(function (p, r) {
        var train = P.data.train[r] === 1;
        if (!train && !P.config.show_test) return;
        var label = P.data.labels[r];
        var rgb = regression ? V.diverging((label - scale.center) / scale.half)
          : V.classColour(label);
        var x = (p[0] - d[0][0]) / (d[0][1] - d[0][0]) * canvas.width;
        var y = (d[1][1] - p[1]) / (d[1][1] - d[1][0]) * canvas.height;
        V.point(context, x, y, 6, rgb, train ? "#fff" : "#111");
      });
      if (P.probe) {
        var px = (P.probe[0] - d[0][0]) / (d[0][1] - d[0][0]) * canvas.width;
        var py = (d[1][1] - P.probe[1]) / (d[1][1] - d[1][0]) * canvas.height;
        context.strokeStyle = "#111";
        context.lineWidth = 2;
        context.beginPath();
        context.moveTo(px - 12, py);
        context.lineTo(px + 12, py);
        context.moveTo(px, py - 12);
        context.lineTo(px, py + 12);
        context.stroke();
      }
    }

    function drawLegend(output, scale, hovered) {
      var box = byId("legend");
      if (hovered && V.neuronLegend(box, hovered, output, P.classes)) return;
      if (output.task === "multiclass") {
        box.textContent = "";
        P.classes.forEach(function (name, k) {
          var item = V.el("span", {class: "legend-item"});
          var swatch = V.el("span", {class: "swatch"});
          swatch.style.background = V.css(V.classColour(k));
          item.appendChild(swatch);
          item.appendChild(document.createTextNode(" class " + name));
          box.appendChild(item);
        });
        return;
      }
      var labels = output.task === "binary" ? [P.classes[0], "", P.classes[1]]
        : [V.format(scale.lo, 2), V.format(scale.center, 2), V.format(scale.hi, 2)];
      V.legend(box, function (t) { return V.diverging(2 * t - 1); }, labels);
    }

    function showProbe() {
      if (!P.probe) return;
      var row = new Float64Array(P.model.inputs);
      PV.featureRow(P.config.features)(P.probe[0], P.probe[1], row);
      var out = F.predict(P.compiled, [Array.from(row)])[0];
      byId("probe").textContent = "At (" + P.probe[0] + ", " + P.probe[1] + "): output " +
        out.map(function (v) { return V.format(v, 6); }).join(", ");
    }

    return {draw: draw};
  }

  root.GlassnetPlaygroundDraw = {create: create, describe: describe, lossText: lossText};
})(typeof self !== "undefined" ? self : this);
