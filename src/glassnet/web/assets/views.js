/* The drawings both glassnet pages share: colours, heatmaps, legends, data points.
 *
 * Classic script defining GlassnetViews (the pages forbid modules under file://);
 * diagram.js adds the network diagram to it.
 * Every name from a model or a user goes into the page with textContent or an SVG
 * text node, never as markup. Colours are the TensorFlow Playground's orange and
 * blue (told apart with every common colour-vision deficiency), then Okabe and
 * Ito's colour-blind-safe palette for further classes.
 */
(function (root) {
  "use strict";

  var SVG_NS = "http://www.w3.org/2000/svg";
  var ORANGE = [245, 147, 34], BLUE = [8, 119, 189], NEUTRAL = [232, 234, 235];
  var CLASS_COLOURS = [ORANGE, BLUE, [0, 158, 115], [204, 121, 167], [240, 228, 66],
    [86, 180, 233], [213, 94, 0], [51, 51, 51]];

  function mix(a, b, t, out) {
    out = out || [0, 0, 0];
    for (var i = 0; i < 3; i++) out[i] = Math.round(a[i] + (b[i] - a[i]) * t);
    return out;
  }

  /** t in [-1, 1]: orange through light grey to blue (clamped). */
  function diverging(t, out) {
    if (!(t === t)) t = 0;
    t = Math.max(-1, Math.min(1, t));
    return t >= 0 ? mix(NEUTRAL, BLUE, t, out) : mix(NEUTRAL, ORANGE, -t, out);
  }

  function classColour(k) { return CLASS_COLOURS[k % CLASS_COLOURS.length]; }

  function css(rgb) { return "rgb(" + rgb[0] + "," + rgb[1] + "," + rgb[2] + ")"; }

  /** An element with attributes and text (always as text, never markup). */
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    setAttrs(node, attrs);
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function svgEl(tag, attrs, text) {
    var node = document.createElementNS(SVG_NS, tag);
    setAttrs(node, attrs);
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function setAttrs(node, attrs) {
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "style") throw new Error("inline style attributes break the CSP");
      node.setAttribute(key, String(attrs[key]));
    });
  }

  function format(value, digits) {
    if (typeof value !== "number" || !isFinite(value)) return String(value);
    return value.toFixed(digits === undefined ? 6 : digits);
  }

  /**
   * The colour of output row r (values[r*width ...]) for the model's output
   * entry: binary by probability, multiclass by argmax shaded by confidence,
   * regression on a diverging scale around scale.center (half-range scale.half).
   */
  function outputColourer(output, width, discretize, scale) {
    var P = root.GlassnetForward;
    var row = new Float64Array(width);
    return function (values, r, out) {
      for (var i = 0; i < width; i++) row[i] = values[r * width + i];
      if (output.task === "binary") {
        var p = P.probabilities(output, row)[1];
        return discretize ? mix(NEUTRAL, p > 0.5 ? BLUE : ORANGE, 1, out)
          : diverging(2 * p - 1, out);
      }
      if (output.task === "multiclass") {
        var probs = P.probabilities(output, row), best = 0;
        for (i = 1; i < probs.length; i++) if (probs[i] > probs[best]) best = i;
        var floor = 1 / probs.length;
        var strength = discretize ? 1 : (probs[best] - floor) / (1 - floor);
        return mix(NEUTRAL, classColour(best), 0.25 + 0.75 * strength, out);
      }
      var t = (row[scale.unit || 0] - scale.center) / scale.half;
      return diverging(discretize ? (t > 0 ? 1 : -1) : t, out);
    };
  }

  /**
   * A data point at (x, y) on a 2-D context: a disc of colour rgb inside a ring
   * (white for training points), and a thin dark edge around both, so a point
   * stays visible on a heatmap region of its own colour.
   */
  function point(context, x, y, radius, rgb, ring) {
    context.beginPath();
    context.arc(x, y, radius, 0, 2 * Math.PI);
    context.fillStyle = css(rgb);
    context.fill();
    context.lineWidth = 0.4 * radius;
    context.strokeStyle = ring;
    context.stroke();
    var edge = Math.max(1, 0.2 * radius);
    context.beginPath();
    context.arc(x, y, 1.2 * radius + edge / 2, 0, 2 * Math.PI);  // just outside the ring
    context.lineWidth = edge;
    context.strokeStyle = "rgba(0, 0, 0, 0.6)";
    context.stroke();
  }

  /** Paint an n x n canvas; colourOf(index, out) gives pixel index's [r, g, b]. */
  function paintGrid(canvas, n, colourOf) {
    var context = canvas.getContext("2d");
    if (canvas.width !== n) canvas.width = n;
    if (canvas.height !== n) canvas.height = n;
    var image = context.createImageData(n, n), data = image.data, rgb = [0, 0, 0];
    for (var index = 0; index < n * n; index++) {
      colourOf(index, rgb);
      data[4 * index] = rgb[0];
      data[4 * index + 1] = rgb[1];
      data[4 * index + 2] = rgb[2];
      data[4 * index + 3] = 255;
    }
    context.putImageData(image, 0, 0);
  }

  /**
   * The n x n grid of input rows over domain [[x0, x1], [y0, y1]], row-major from
   * the top-left pixel (y points up). rowOf(x, y, out) fills one input row.
   */
  function gridInputs(domain, n, width, rowOf) {
    var flat = new Float64Array(n * n * width), row = new Float64Array(width);
    for (var j = 0; j < n; j++) {
      var y = domain[1][1] - (j + 0.5) / n * (domain[1][1] - domain[1][0]);
      for (var i = 0; i < n; i++) {
        var x = domain[0][0] + (i + 0.5) / n * (domain[0][1] - domain[0][0]);
        rowOf(x, y, row);
        flat.set(row, (j * n + i) * width);
      }
    }
    return flat;
  }

  /** Diverging colours for one neuron's values, scaled by its largest |value|. */
  function neuronColourer(values, width, unit) {
    var top = 1e-12;
    for (var r = unit; r < values.length; r += width) top = Math.max(top, Math.abs(values[r]));
    return {top: top, colour: function (index, out) {
      return diverging(values[index * width + unit] / top, out);
    }};
  }

  /**
   * Colours for output unit `unit` of a thumbnail: a binary output as the main
   * heatmap, a class by its probability (grey to its colour), a regression unit
   * from its smallest to its largest value.
   */
  function outputUnitColourer(output, values, width, unit) {
    var P = root.GlassnetForward, row = new Float64Array(width);
    var lo = Infinity, hi = -Infinity;
    for (var r = unit; r < values.length; r += width) {
      lo = Math.min(lo, values[r]);
      hi = Math.max(hi, values[r]);
    }
    return function (index, out) {
      if (output.task === "regression") {
        return diverging((values[index * width + unit] - (lo + hi) / 2) /
          Math.max((hi - lo) / 2, 1e-12), out);
      }
      for (var i = 0; i < width; i++) row[i] = values[index * width + i];
      var probs = P.probabilities(output, row);
      if (output.task === "binary") return diverging(2 * probs[1] - 1, out);
      return mix(NEUTRAL, classColour(unit), probs[unit], out);
    };
  }

  /** A legend bar: a gradient canvas with its end labels. */
  function legend(container, colourAt, labels) {
    container.textContent = "";
    var bar = el("canvas", {class: "legend-bar", width: 120, height: 1});
    paintRow(bar, 120, colourAt);
    container.appendChild(bar);
    var row = el("div", {class: "legend-labels"});
    labels.forEach(function (text) { row.appendChild(el("span", {}, text)); });
    container.appendChild(row);
  }

  /**
   * The legend of a hovered neuron's heatmap: a hidden neuron's diverging scale
   * (-top to top), or a class's probability (light grey to its colour). Draws
   * nothing and returns false for any other (its legend is the output's).
   * hovered: {kind: "hidden", top} or {kind: "output", unit}.
   */
  function neuronLegend(container, hovered, output, classNames) {
    if (hovered.kind === "hidden") {
      legend(container, function (t) { return diverging(2 * t - 1); },
        [format(-hovered.top, 4), "0", format(hovered.top, 4)]);
      return true;
    }
    if (hovered.kind === "output" && output.task === "multiclass") {
      var colour = classColour(hovered.unit);
      legend(container, function (t) { return mix(NEUTRAL, colour, t); },
        ["P(" + classNames[hovered.unit] + ") = 0", "", "1"]);
      return true;
    }
    return false;
  }

  function paintRow(canvas, n, colourAt) {
    var context = canvas.getContext("2d"), image = context.createImageData(n, 1);
    for (var i = 0; i < n; i++) {
      var rgb = colourAt(i / (n - 1));
      image.data.set([rgb[0], rgb[1], rgb[2], 255], 4 * i);
    }
    context.putImageData(image, 0, 0);
  }

  root.GlassnetViews = {
    BLUE: BLUE,
    CLASS_COLOURS: CLASS_COLOURS,
    NEUTRAL: NEUTRAL,
    ORANGE: ORANGE,
    classColour: classColour,
    css: css,
    diverging: diverging,
    el: el,
    format: format,
    gridInputs: gridInputs,
    legend: legend,
    mix: mix,
    neuronLegend: neuronLegend,
    neuronColourer: neuronColourer,
    outputColourer: outputColourer,
    outputUnitColourer: outputUnitColourer,
    paintGrid: paintGrid,
    point: point,
    svgEl: svgEl,
  };
})(typeof self !== "undefined" ? self : this);
