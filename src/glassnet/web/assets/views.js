/* The drawings both glassnet pages share: colours, heatmaps, the network diagram.
 *
 * Classic script defining GlassnetViews (the pages forbid modules under file://).
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

  function paintRow(canvas, n, colourAt) {
    var context = canvas.getContext("2d"), image = context.createImageData(n, 1);
    for (var i = 0; i < n; i++) {
      var rgb = colourAt(i / (n - 1));
      image.data.set([rgb[0], rgb[1], rgb[2], 255], 4 * i);
    }
    context.putImageData(image, 0, 0);
  }

  /**
   * The network drawn as neurons and connections into container (an element
   * with position: relative). Links are SVG paths of class "link" (colour by sign,
   * width by |w|), biases small squares of class "bias"; with opts.thumbs every
   * neuron gets a canvas (class "input-thumb", "neuron-thumb" or "output-thumb").
   * opts: inputLabels, outputLabels, thumbs, width (to fit), onHover(info, event),
 * onClick(info, event),
   * onNeuron(stage, unit) (stage -1 for an input; null, null when the mouse leaves).
   */
  function network(container, model, opts) {
    opts = opts || {};
    container.textContent = "";
    var dense = model.layers.filter(function (l) { return l.class_name === "Dense"; });
    var counts = [model.inputs].concat(dense.map(function (l) { return l.units; }));
    var most = Math.max.apply(null, counts);
    var size = most > 24 ? 14 : most > 12 ? 20 : 30, gap = size > 20 ? 14 : 6;
    var labelWidth = 90, columnGap = Math.max(90, Math.min(170, 700 / counts.length));
    if (opts.width) {  // fit the container: the output column stays in view
      var spare = opts.width - labelWidth - size - 80;
      columnGap = Math.max(56, Math.min(170, spare / Math.max(1, counts.length - 1)));
    }
    var width = labelWidth + (counts.length - 1) * columnGap + size + 90;
    var height = most * (size + gap) + 10;
    var svg = svgEl("svg", {class: "network-svg", width: width, height: height,
      viewBox: "0 0 " + width + " " + height});
    var linkLayer = svgEl("g", {class: "links"}), nodeLayer = svgEl("g", {class: "nodes"});
    svg.appendChild(linkLayer);
    svg.appendChild(nodeLayer);
    container.appendChild(svg);
    var weightCount = dense.reduce(function (s, l) { return s + l.inputs * l.units; }, 0);
    var drawLinks = weightCount <= 20000, hoverLinks = weightCount <= 4000;
    if (!drawLinks) {
      container.appendChild(el("p", {class: "note"}, weightCount +
        " weights: too many connections to draw; hover the neurons instead."));
    }

    function position(column, unit) {
      var x = labelWidth + column * columnGap;
      var offset = (most - counts[column]) * (size + gap) / 2;
      return {x: x, y: 5 + offset + unit * (size + gap)};
    }

    var links = [], biases = [], thumbs = {inputs: [], hidden: [], outputs: []};
    dense.forEach(function (layer, k) {
      for (var j = 0; j < layer.units; j++) {
        var to = position(k + 1, j);
        if (drawLinks) {
          for (var i = 0; i < layer.inputs; i++) {
            var from = position(k, i), x0 = from.x + size, y0 = from.y + size / 2;
            var x1 = to.x, y1 = to.y + size / 2, mid = (x0 + x1) / 2;
            var d = "M" + x0 + "," + y0 + " C" + mid + "," + y0 + " " + mid + "," + y1 +
              " " + x1 + "," + y1;
            var path = svgEl("path", {class: "link", d: d, "data-stage": k, "data-from": i,
              "data-to": j, fill: "none"});
            linkLayer.appendChild(path);
            var info = {kind: "weight", stage: k, from: i, to: j, layer: layer.name};
            links.push({path: path, info: info});
            if (hoverLinks) {
              var hover = svgEl("path", {class: "link-hover", d: d, fill: "none"});
              bindHover(hover, info);
              linkLayer.appendChild(hover);
            }
          }
        }
        var bias = svgEl("rect", {class: "bias", x: to.x - 7, y: to.y + size - 5,
          width: 6, height: 6, "data-stage": k, "data-unit": j});
        var biasInfo = {kind: "bias", stage: k, to: j, layer: layer.name};
        biases.push({rect: bias, info: biasInfo});
        bindHover(bias, biasInfo);
        nodeLayer.appendChild(bias);
      }
    });

    counts.forEach(function (count, column) {
      for (var unit = 0; unit < count; unit++) {
        var p = position(column, unit), stage = column - 1;
        var kind = column === 0 ? "input" : column === counts.length - 1 ? "output" : "hidden";
        var rect = svgEl("rect", {class: "node node-" + kind, x: p.x, y: p.y, width: size,
          height: size, "data-stage": stage, "data-unit": unit});
        nodeLayer.appendChild(rect);
        var label = null;
        if (kind === "input" && opts.inputLabels) label = opts.inputLabels[unit];
        if (kind === "output" && opts.outputLabels) label = opts.outputLabels[unit];
        if (label !== null && label !== undefined) {
          var anchor = kind === "input" ? "end" : "start";
          var tx = kind === "input" ? p.x - 6 : p.x + size + 6;
          var text = String(label), shown = text.length > 14 ? text.slice(0, 13) + "\u2026" : text;
          var labelNode = svgEl("text", {class: "node-label", x: tx, y: p.y + size / 2 + 4,
            "text-anchor": anchor}, shown);
          labelNode.appendChild(svgEl("title", {}, text));
          nodeLayer.appendChild(labelNode);
        }
        var target = rect;
        if (opts.thumbs) {
          var thumbClass = kind === "hidden" ? "neuron-thumb" : kind + "-thumb";
          var canvas = el("canvas", {class: thumbClass + " thumb", width: 10, height: 10,
            "data-stage": stage, "data-unit": unit});
          canvas.style.left = (p.x + 1) + "px";
          canvas.style.top = (p.y + 1) + "px";
          canvas.style.width = (size - 2) + "px";
          canvas.style.height = (size - 2) + "px";
          container.appendChild(canvas);
          thumbs[kind === "input" ? "inputs" : kind === "output" ? "outputs" : "hidden"]
            .push({stage: stage, unit: unit, canvas: canvas});
          target = canvas;
        }
        bindNeuron(target, stage, unit);
      }
    });

    function bindHover(node, info) {
      node.addEventListener("mouseenter", function (event) {
        if (opts.onHover) opts.onHover(info, event);
      });
      node.addEventListener("mouseleave", function (event) {
        if (opts.onHover) opts.onHover(null, event);
      });
      node.addEventListener("click", function (event) {
        if (opts.onClick) opts.onClick(info, event);
      });
    }

    function bindNeuron(node, stage, unit) {
      node.addEventListener("mouseenter", function () {
        if (opts.onNeuron) opts.onNeuron(stage, unit);
      });
      node.addEventListener("mouseleave", function () {
        if (opts.onNeuron) opts.onNeuron(null, null);
      });
    }

    function update(current) {
      var layers = current.layers.filter(function (l) { return l.class_name === "Dense"; });
      var top = 1e-12, topBias = 1e-12;
      layers.forEach(function (l) {
        l.W.forEach(function (row) {
          row.forEach(function (w) { top = Math.max(top, Math.abs(w)); });
        });
        l.b.forEach(function (b) { topBias = Math.max(topBias, Math.abs(b)); });
      });
      links.forEach(function (link) {
        var w = layers[link.info.stage].W[link.info.from][link.info.to];
        var share = Math.abs(w) / top;
        link.info.value = w;
        link.path.setAttribute("data-weight", String(w));
        link.path.setAttribute("stroke", css(w >= 0 ? BLUE : ORANGE));
        link.path.setAttribute("stroke-width", (0.5 + 5.5 * share).toFixed(3));
        link.path.setAttribute("stroke-opacity", (0.35 + 0.65 * share).toFixed(3));
      });
      biases.forEach(function (bias) {
        var b = layers[bias.info.stage].b[bias.info.to];
        bias.info.value = b;
        bias.rect.setAttribute("data-bias", String(b));
        bias.rect.setAttribute("fill", css(diverging(b / topBias)));
      });
    }

    update(model);
    var columns = counts.map(function (count, column) { return position(column, 0).x; });
    return {update: update, thumbs: thumbs, links: links, size: size, columns: columns};
  }

  /** A hover card near the mouse showing a label and a value, as text. */
  function hovercard(card, text, event) {
    if (text === null) {
      card.hidden = true;
      return;
    }
    card.textContent = text;
    card.hidden = false;
    var box = card.parentNode.getBoundingClientRect();
    card.style.left = (event.clientX - box.left + 14) + "px";
    card.style.top = (event.clientY - box.top + 10) + "px";
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
    hovercard: hovercard,
    legend: legend,
    mix: mix,
    network: network,
    neuronColourer: neuronColourer,
    outputColourer: outputColourer,
    outputUnitColourer: outputUnitColourer,
    paintGrid: paintGrid,
    svgEl: svgEl,
  };
})(typeof self !== "undefined" ? self : this);
