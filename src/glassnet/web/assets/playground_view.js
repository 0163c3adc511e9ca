/* The playground's own drawings: loss charts, data set and feature thumbnails.
 *
 * Classic script defining GlassnetPlaygroundView; the heatmaps and the network
 * diagram come from GlassnetViews (views.js, diagram.js), shared with the exported page.
 */
(function (root) {
  "use strict";
  var V = root.GlassnetViews;
  var LINE_COLOURS = ["#0072b2", "#e69f00", "#009e73"];

  /** The feature functions of the Playground's seven inputs. */
  var FEATURES = {
    x: function (x) { return x; },
    y: function (x, y) { return y; },
    x_squared: function (x) { return x * x; },
    y_squared: function (x, y) { return y * y; },
    x_times_y: function (x, y) { return x * y; },
    sin_x: function (x) { return Math.sin(x); },
    sin_y: function (x, y) { return Math.sin(y); },
  };

  function featureRow(features) {
    var functions = features.map(function (name) { return FEATURES[name]; });
    return function (x, y, row) {
      for (var i = 0; i < functions.length; i++) row[i] = functions[i](x, y);
    };
  }

  /** Lines on a canvas: series = [{values: [[x, y], ...], colour}], y from 0. */
  function lines(canvas, series) {
    var context = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
    context.clearRect(0, 0, w, h);
    var xMax = 1, yMax = 1e-12;
    series.forEach(function (s) {
      s.values.forEach(function (p) {
        if (p[1] === null || !isFinite(p[1])) return;
        xMax = Math.max(xMax, p[0]);
        yMax = Math.max(yMax, p[1]);
      });
    });
    series.forEach(function (s) {
      context.beginPath();
      context.strokeStyle = s.colour;
      context.lineWidth = 1.5;
      var started = false;
      s.values.forEach(function (p) {
        if (p[1] === null || !isFinite(p[1])) return;
        var px = p[0] / xMax * (w - 2) + 1, py = h - 2 - p[1] / yMax * (h - 4);
        if (started) context.lineTo(px, py); else context.moveTo(px, py);
        started = true;
      });
      context.stroke();
    });
    return {xMax: xMax, yMax: yMax};
  }

  /** The Playground's loss chart: training loss grey, test loss black. */
  function lossChart(canvas, history) {
    lines(canvas, [
      {values: history.map(function (p) { return [p[0], p[1]]; }), colour: "#888"},
      {values: history.map(function (p) { return [p[0], p[2]]; }), colour: "#111"},
    ]);
  }

  /** Batch, mini-batch and stochastic training losses, epoch by epoch. */
  function compareChart(canvas, legend, result) {
    canvas.hidden = false;
    var scale = lines(canvas, result.curves.map(function (curve, k) {
      return {values: curve.loss.map(function (v, e) { return [e + 1, v]; }),
        colour: LINE_COLOURS[k]};
    }));
    legend.textContent = "";
    result.curves.forEach(function (curve, k) {
      var item = V.el("div", {class: "compare-item"});
      var swatch = V.el("span", {class: "swatch"});
      swatch.style.background = LINE_COLOURS[k];
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(" " + curve.name + ": batches of " +
        curve.batch_size + ", " + curve.updates_per_epoch + " update" +
        (curve.updates_per_epoch === 1 ? "" : "s") + " per epoch; training loss " +
        V.format(curve.loss[curve.loss.length - 1], 4) + " after " + result.epochs + " epochs"));
      legend.appendChild(item);
    });
    legend.appendChild(V.el("div", {class: "hint"}, "Loss from 0 to " + V.format(scale.yMax, 3) +
      ", epochs 1 to " + result.epochs + "."));
  }

  /** A data set's points, coloured by label, on a small canvas. */
  function datasetThumb(canvas, points, domain, regression) {
    var context = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
    context.fillStyle = "#f7f7f7";
    context.fillRect(0, 0, w, h);
    points.forEach(function (p) {
      var rgb = regression ? V.diverging(p[2]) : V.classColour(p[2]);
      context.fillStyle = V.css(rgb);
      var x = (p[0] - domain[0][0]) / (domain[0][1] - domain[0][0]) * w;
      var y = (domain[1][1] - p[1]) / (domain[1][1] - domain[1][0]) * h;
      context.fillRect(x - 1.5, y - 1.5, 3, 3);
    });
  }

  /** One feature's values over the domain, on the diverging scale. */
  function featureThumb(canvas, name, domain) {
    var n = 20, f = FEATURES[name], values = new Float64Array(n * n), top = 1e-12;
    for (var j = 0; j < n; j++) {
      var y = domain[1][1] - (j + 0.5) / n * (domain[1][1] - domain[1][0]);
      for (var i = 0; i < n; i++) {
        var x = domain[0][0] + (i + 0.5) / n * (domain[0][1] - domain[0][0]);
        values[j * n + i] = f(x, y);
        top = Math.max(top, Math.abs(values[j * n + i]));
      }
    }
    V.paintGrid(canvas, n, function (index, out) { return V.diverging(values[index] / top, out); });
  }

  /** 1234 -> "001,234", as the Playground's epoch counter. */
  function epochText(epoch) {
    var padded = ("000000" + epoch).slice(-Math.max(6, String(epoch).length));
    return padded.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }

  /** Float32 weights from base64 (little-endian, as the server sends them). */
  function decodeFloats(text) {
    var bytes = atob(text), buffer = new ArrayBuffer(bytes.length), view = new Uint8Array(buffer);
    for (var i = 0; i < bytes.length; i++) view[i] = bytes.charCodeAt(i);
    return new Float32Array(buffer);
  }

  /** Bytes as base64, in chunks (a whole file at once overflows the call stack). */
  function encodeBytes(buffer) {
    var bytes = new Uint8Array(buffer), parts = [], chunk = 0x8000;
    for (var i = 0; i < bytes.length; i += chunk) {
      parts.push(String.fromCharCode.apply(null, bytes.subarray(i, i + chunk)));
    }
    return btoa(parts.join(""));
  }

  root.GlassnetPlaygroundView = {
    FEATURES: FEATURES,
    compareChart: compareChart,
    datasetThumb: datasetThumb,
    decodeFloats: decodeFloats,
    encodeBytes: encodeBytes,
    epochText: epochText,
    featureRow: featureRow,
    featureThumb: featureThumb,
    lossChart: lossChart,
  };
})(typeof self !== "undefined" ? self : this);
