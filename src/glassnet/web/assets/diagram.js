/* The network diagram both glassnet pages draw: neurons, connections, biases.
 *
 * Classic script, after views.js: adds network() and hovercard() to GlassnetViews.
 * Names go in as SVG text nodes, never as markup; links are coloured by the sign
 * of their weight (the Playground's blue and orange) and sized by its magnitude.
 */
(function (root) {
  "use strict";
  var V = root.GlassnetViews;
  var BLUE = V.BLUE, ORANGE = V.ORANGE, css = V.css, diverging = V.diverging, el = V.el;
  var svgEl = V.svgEl;

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
      columnGap = Math.max(34, Math.min(170, spare / Math.max(1, counts.length - 1)));
      size = Math.min(size, Math.max(12, Math.floor(columnGap - 20)));  // room for links
      gap = Math.min(gap, size);
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

  V.network = network;
  V.hovercard = hovercard;
})(typeof self !== "undefined" ? self : this);
