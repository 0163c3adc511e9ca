/* The exported page: one model, its heatmaps, its diagram, one slider per input.
 *
 * Reads the two JSON blocks of the page (#glassnet-model: the model;
 * #glassnet-page: names, input ranges, data points, the summary table), draws
 * everything with GlassnetForward and GlassnetViews, and exposes window.glassnet:
 *   glassnet.predict(rows)    the JavaScript forward pass on an array of input rows
 *   glassnet.model            the model JSON (layers, activations, weights)
 *   glassnet.setInputs(vals)  move the sliders; returns the output row
 *   glassnet.domain           [[x0, x1], [y0, y1]], the heatmap's extent (y up)
 */
(function () {
  "use strict";
  var F = window.GlassnetForward, V = window.GlassnetViews, el = V.el;
  var model = JSON.parse(document.getElementById("glassnet-model").textContent);
  var page = JSON.parse(document.getElementById("glassnet-page").textContent);
  var compiled = F.compile(model), output = model.output, n = model.inputs;
  var DENSITY = 100, THUMB = 24;
  var featureNames = page.feature_names;
  var classNames = page.class_names;
  var outputNames = outputLabels();
  var ranges = page.ranges;
  var values = ranges.map(function (r) { return +((r[0] + r[1]) / 2).toPrecision(4); });
  var axes = n >= 2 ? [0, 1] : null;
  var state = {discretize: false, neuron: null, unit: 0, scale: {center: 0, half: 1, unit: 0}};
  var ui = {};

  function outputLabels() {
    if (output.task === "binary") return ["output"];
    if (output.task === "multiclass") return classNames;
    var names = [];
    for (var u = 0; u < output.units; u++) names.push(output.units === 1 ? "output" : "output " + u);
    return names;
  }

  function build() {
    var main = document.getElementById("glassnet-app");
    var header = el("header");
    header.appendChild(el("h1", {}, page.title));
    header.appendChild(el("p", {class: "meta"}, page.description));
    main.appendChild(header);
    var grid = el("div", {class: "grid"});
    main.appendChild(grid);
    if (axes) grid.appendChild(buildHeatmap());
    grid.appendChild(buildInputs());
    var net = el("section", {class: "panel network-panel"});
    net.appendChild(el("h2", {}, "Network"));
    net.appendChild(el("p", {class: "hint"}, "Blue: positive, orange: negative; " +
      "thicker is larger. Hover a connection or a bias for its value" +
      (axes ? ", a neuron to see its heatmap large." : ".")));
    ui.networkWrap = el("div", {class: "network-wrap"});
    ui.card = el("div", {class: "hovercard", id: "hovercard"});
    ui.card.hidden = true;
    net.appendChild(ui.networkWrap);
    ui.networkWrap.parentNode.appendChild(ui.card);
    main.appendChild(net);
    var summary = el("section", {class: "panel"});
    summary.appendChild(el("h2", {}, "summary()"));
    summary.appendChild(el("pre", {class: "summary", id: "summary"}, page.summary));
    main.appendChild(summary);
    ui.diagram = V.network(ui.networkWrap, model, {
      inputLabels: featureNames, outputLabels: outputNames, thumbs: !!axes,
      onHover: function (info, event) {
        V.hovercard(ui.card, info === null ? null : describe(info), event);
      },
      onNeuron: function (stage, unit) {
        state.neuron = stage === null || stage < 0 ? null : {stage: stage, unit: unit};
        drawHeatmap();
      },
    });
  }

  function describe(info) {
    var what = info.kind === "weight"
      ? "weight " + info.layer + ": input " + info.from + " \u2192 neuron " + info.to
      : "bias " + info.layer + ": neuron " + info.to;
    return what + " = " + V.format(info.value, 6);
  }

  function buildHeatmap() {
    var section = el("section", {class: "panel heatmap-panel"});
    section.appendChild(el("h2", {}, n === 2 ? "Output" : "Output over a 2-D slice"));
    var box = el("div", {class: "heatmap-box"});
    ui.heatmap = el("canvas", {id: "heatmap", class: "heatmap", width: DENSITY,
      height: DENSITY});
    ui.points = el("canvas", {id: "heatmap-points", class: "heatmap-points", width: 600,
      height: 600});
    box.appendChild(ui.heatmap);
    box.appendChild(ui.points);
    section.appendChild(box);
    ui.axisText = el("p", {class: "axis-text", id: "axis-text"});
    section.appendChild(ui.axisText);
    ui.caption = el("p", {class: "caption", id: "heatmap-caption"});
    section.appendChild(ui.caption);
    ui.legend = el("div", {class: "legend", id: "legend"});
    section.appendChild(ui.legend);
    var controls = el("div", {class: "controls"});
    var label = el("label");
    ui.discretize = el("input", {type: "checkbox", id: "discretize"});
    ui.discretize.addEventListener("change", function () {
      state.discretize = ui.discretize.checked;
      drawHeatmap();
    });
    label.appendChild(ui.discretize);
    label.appendChild(document.createTextNode(" Discretize output"));
    controls.appendChild(label);
    if (n > 2) {
      ["X axis", "Y axis"].forEach(function (name, a) {
        var select = el("select", {id: "axis-" + a});
        featureNames.forEach(function (f, i) {
          var option = el("option", {value: i}, f);
          if (i === axes[a]) option.selected = true;
          select.appendChild(option);
        });
        select.addEventListener("change", function () { setAxes(a, +select.value); });
        var wrap = el("label", {}, name + " ");
        wrap.appendChild(select);
        controls.appendChild(wrap);
      });
    }
    if (output.task === "regression" && output.units > 1) {
      var pick = el("select", {id: "output-unit"});
      outputNames.forEach(function (name, u) { pick.appendChild(el("option", {value: u}, name)); });
      pick.addEventListener("change", function () { state.unit = +pick.value; drawHeatmap(); });
      var shown = el("label", {}, "Shown ");
      shown.appendChild(pick);
      controls.appendChild(shown);
    }
    section.appendChild(controls);
    return section;
  }

  function setAxes(which, index) {
    var other = axes[1 - which];
    if (index === other) axes[1 - which] = axes[which];
    axes[which] = index;
    var selects = [document.getElementById("axis-0"), document.getElementById("axis-1")];
    selects.forEach(function (s, a) { s.value = String(axes[a]); });
    refresh();
  }

  function domain() { return [ranges[axes[0]].slice(), ranges[axes[1]].slice()]; }

  function rowOf(x, y, row) {
    row.set(values);
    row[axes[0]] = x;
    row[axes[1]] = y;
  }

  function drawHeatmap() {
    if (!axes) return;
    var grid = V.gridInputs(domain(), DENSITY, n, rowOf);
    var result = F.run(compiled, grid, DENSITY * DENSITY, state.neuron !== null);
    var colour, caption, hovered = null;
    if (state.neuron !== null) {
      var s = state.neuron, stage = compiled.stages[s.stage];
      if (s.stage === compiled.stages.length - 1) {
        colour = V.outputUnitColourer(output, result.output, result.width, s.unit);
        caption = "Output unit " + outputNames[s.unit];
        hovered = {kind: "output", unit: s.unit};
      } else {
        var shade = V.neuronColourer(result.stages[s.stage], stage.units, s.unit);
        colour = shade.colour;
        hovered = {kind: "hidden", top: shade.top};
        caption = "Neuron " + s.unit + " of " + stage.name + " (largest |value| " +
          V.format(shade.top, 4) + ")";
      }
    } else {
      state.scale = regressionScale(result.output, result.width);
      var paint = V.outputColourer(output, result.width, state.discretize, state.scale);
      colour = function (index, out) { return paint(result.output, index, out); };
      caption = "Model output" + (state.discretize ? " (discretized)" : "");
    }
    V.paintGrid(ui.heatmap, DENSITY, colour);
    ui.caption.textContent = caption;
    var d = domain();
    ui.axisText.textContent = featureNames[axes[0]] + " from " + V.format(d[0][0], 3) +
      " to " + V.format(d[0][1], 3) + " (right); " + featureNames[axes[1]] + " from " +
      V.format(d[1][0], 3) + " to " + V.format(d[1][1], 3) + " (up)";
    drawLegend(hovered);
    drawPoints();
  }

  function regressionScale(values, width) {
    var lo = Infinity, hi = -Infinity;
    for (var r = state.unit; r < values.length; r += width) {
      lo = Math.min(lo, values[r]);
      hi = Math.max(hi, values[r]);
    }
    return {center: (lo + hi) / 2, half: Math.max((hi - lo) / 2, 1e-12), unit: state.unit,
      lo: lo, hi: hi};
  }

  function drawLegend(hovered) {
    if (hovered && V.neuronLegend(ui.legend, hovered, output, classNames)) return;
    if (output.task === "binary") {
      V.legend(ui.legend, function (t) { return V.diverging(2 * t - 1); },
        [(classNames[0]) + " (0)", "0.5", (classNames[1]) + " (1)"]);
    } else if (output.task === "multiclass") {
      ui.legend.textContent = "";
      classNames.forEach(function (name, k) {
        var item = el("span", {class: "legend-item"});
        var swatch = el("span", {class: "swatch"});
        swatch.style.background = V.css(V.classColour(k));
        item.appendChild(swatch);
        item.appendChild(document.createTextNode(" " + name));
        ui.legend.appendChild(item);
      });
    } else {
      var s = state.scale;
      V.legend(ui.legend, function (t) { return V.diverging(2 * t - 1); },
        [V.format(s.lo, 4), V.format(s.center, 4), V.format(s.hi, 4)]);
    }
  }

  function drawPoints() {
    var canvas = ui.points, context = canvas.getContext("2d"), d = domain();
    context.clearRect(0, 0, canvas.width, canvas.height);
    var px = function (x) { return (x - d[0][0]) / (d[0][1] - d[0][0]) * canvas.width; };
    var py = function (y) { return (d[1][1] - y) / (d[1][1] - d[1][0]) * canvas.height; };
    if (page.data) {
      page.data.x.forEach(function (row, r) {
        var label = page.data.y[r], rgb;
        if (output.task === "regression") {
          rgb = V.diverging((label - state.scale.center) / state.scale.half);
        } else {
          rgb = V.classColour(label);
        }
        V.point(context, px(row[axes[0]]), py(row[axes[1]]), 8, rgb, "#fff");
      });
    }
    var mx = px(values[axes[0]]), my = py(values[axes[1]]);
    context.lineWidth = 2;
    context.strokeStyle = "#222";
    context.beginPath();
    context.moveTo(mx - 12, my);
    context.lineTo(mx + 12, my);
    context.moveTo(mx, my - 12);
    context.lineTo(mx, my + 12);
    context.stroke();
  }

  function drawThumbs() {
    if (!axes) return;
    var grid = V.gridInputs(domain(), THUMB, n, rowOf);
    var result = F.run(compiled, grid, THUMB * THUMB, true);
    var thumbs = ui.diagram.thumbs;
    thumbs.hidden.forEach(function (t) {
      var stage = compiled.stages[t.stage];
      V.paintGrid(t.canvas, THUMB, V.neuronColourer(result.stages[t.stage], stage.units,
        t.unit).colour);
    });
    thumbs.outputs.forEach(function (t) {
      V.paintGrid(t.canvas, THUMB, V.outputUnitColourer(output, result.output, result.width,
        t.unit));
    });
    thumbs.inputs.forEach(function (t) {
      V.paintGrid(t.canvas, THUMB, function (index, out) {
        var a = t.unit === axes[0] ? 0 : t.unit === axes[1] ? 1 : -1;
        if (a < 0) return V.diverging(0, out);
        var cells = a === 0 ? index % THUMB : THUMB - 1 - Math.floor(index / THUMB);
        return V.diverging(2 * (cells + 0.5) / THUMB - 1, out);
      });
    });
  }

  function buildInputs() {
    var section = el("section", {class: "panel inputs-panel"});
    section.appendChild(el("h2", {}, "Inputs and output"));
    ui.sliders = [];
    ui.boxes = [];
    var list = el("div", {class: "input-list"});
    featureNames.forEach(function (name, i) {
      var row = el("div", {class: "input-row"});
      row.appendChild(el("label", {for: "input-" + i, class: "input-name"}, name));
      var step = (ranges[i][1] - ranges[i][0]) / 1000;
      var slider = el("input", {type: "range", id: "input-" + i, min: ranges[i][0],
        max: ranges[i][1], step: step, value: values[i]});
      var box = el("input", {type: "number", id: "input-number-" + i, step: "any",
        value: values[i]});
      slider.addEventListener("input", function () { setOne(i, +slider.value, slider); });
      box.addEventListener("input", function () {
        if (box.value !== "" && isFinite(+box.value)) setOne(i, +box.value, box);
      });
      row.appendChild(slider);
      row.appendChild(box);
      list.appendChild(row);
      ui.sliders.push(slider);
      ui.boxes.push(box);
    });
    section.appendChild(list);
    ui.outputs = el("div", {class: "outputs", id: "outputs"});
    section.appendChild(ui.outputs);
    return section;
  }

  function setOne(i, value, source) {
    values[i] = value;
    if (source !== ui.sliders[i]) ui.sliders[i].value = String(value);
    if (source !== ui.boxes[i]) ui.boxes[i].value = String(value);
    refresh(true);
  }

  var pending = false;
  function refresh(inputsOnly) {
    showOutputs();
    if (inputsOnly && n === 2) {
      drawPoints();
      return;
    }
    if (pending) return;
    pending = true;
    window.requestAnimationFrame(function () {
      pending = false;
      drawHeatmap();
      drawThumbs();
    });
  }

  function currentOutputs() { return F.predict(compiled, [values.slice()])[0]; }

  function showOutputs() {
    var out = currentOutputs(), box = ui.outputs;
    box.textContent = "";
    var probs = F.probabilities(output, out);
    // A classifier whose outputs already are probabilities (a softmax, a sigmoid
    // unit) shows them once, as the bars below; outputs that are not (regression,
    // logits, a tanh unit) are listed as they are first.
    if (probs === null || output.probability !== "identity") {
      var table = el("table", {class: "output-table"});
      out.forEach(function (v, u) {
        var tr = el("tr");
        tr.appendChild(el("th", {}, outputNames[u]));
        tr.appendChild(el("td", {id: "output-value-" + u, class: "number"}, V.format(v, 6)));
        table.appendChild(tr);
      });
      box.appendChild(table);
    }
    if (probs === null) return;
    var best = 0;
    probs.forEach(function (p, k) { if (p > probs[best]) best = k; });
    box.appendChild(el("p", {class: "predicted", id: "predicted-class"},
      "Predicted class: " + classNames[best]));
    var bars = el("table", {class: "probabilities"});
    probs.forEach(function (p, k) {
      var tr = el("tr");
      tr.appendChild(el("th", {}, classNames[k]));
      var cell = el("td", {class: "bar-cell"});
      var bar = el("span", {class: "bar"});
      bar.style.width = (100 * p).toFixed(2) + "%";
      bar.style.background = V.css(V.classColour(k));
      cell.appendChild(bar);
      tr.appendChild(cell);
      tr.appendChild(el("td", {id: "probability-" + k, class: "number"}, V.format(p, 6)));
      bars.appendChild(tr);
    });
    box.appendChild(bars);
  }

  function setInputs(given) {
    if (!Array.isArray(given) || given.length !== n) {
      throw new Error("setInputs expects an array of " + n + " numbers");
    }
    given.forEach(function (v, i) {
      if (typeof v !== "number" || !isFinite(v)) {
        throw new Error("setInputs: value " + i + " is " + String(v) + ", not a finite number");
      }
    });
    given.forEach(function (v, i) {
      values[i] = v;
      ui.sliders[i].value = String(v);
      ui.boxes[i].value = String(v);
    });
    refresh(true);
    return currentOutputs();
  }

  build();
  showOutputs();
  drawHeatmap();
  drawThumbs();

  window.glassnet = {
    model: model,
    predict: function (rows) { return F.predict(compiled, rows); },
    setInputs: setInputs,
    get inputs() { return values.slice(); },
    get outputs() { return currentOutputs(); },
    get domain() { return axes ? domain() : null; },
    get axes() { return axes ? axes.slice() : null; },
  };
})();
