/* glassnet's forward pass in JavaScript: the model JSON of glassnet.web.model_json.
 *
 * The same file runs in the exported page, in the playground and under node (the
 * tests require it), so it is a classic script that defines GlassnetForward, or
 * module.exports under node. Everything computes in float64 on flat row-major
 * matrices: a batch of n rows of width w is a Float64Array of n * w numbers.
 *
 *   var out = GlassnetForward.predict(model, [[0, 1], [1, 0]]);  // [[p], [p]]
 *
 * Each activation follows glassnet's NumPy formula (src/glassnet/activations).
 */
(function (root, factory) {
  "use strict";
  var api = factory();
  if (typeof module === "object" && module.exports) {
    module.exports = api;
  } else {
    root.GlassnetForward = api;
  }
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  // erfc(x) after W. J. Cody (1969), as glassnet._special computes it in NumPy.
  var ERF_A = [1.85777706184603153e-1, 3.16112374387056560e00, 1.13864154151050156e02,
    3.77485237685302021e02, 3.20937758913846947e03];
  var ERF_B = [1.0, 2.36012909523441209e01, 2.44024637934444173e02,
    1.28261652607737228e03, 2.84423683343917062e03];
  var ERF_C = [2.15311535474403846e-8, 5.64188496988670089e-1, 8.88314979438837594e00,
    6.61191906371416295e01, 2.98635138197400131e02, 8.81952221241769090e02,
    1.71204761263407058e03, 2.05107837782607147e03, 1.23033935479799725e03];
  var ERF_D = [1.0, 1.57449261107098347e01, 1.17693950891312499e02,
    5.37181101862009858e02, 1.62138957456669019e03, 3.29079923573345963e03,
    4.36261909014324716e03, 3.43936767414372164e03, 1.23033935480374942e03];
  var ERF_P = [1.63153871373020978e-2, 3.05326634961232344e-1, 3.60344899949804439e-1,
    1.25781726111229246e-1, 1.60837851487422766e-2, 6.58749161529837803e-4];
  var ERF_Q = [1.0, 2.56852019228982242e00, 1.87295284992346047e00,
    5.27905102951428412e-1, 6.05183413124413191e-2, 2.33520497626869185e-3];
  var INV_SQRT_PI = 5.6418958354775628695e-1;

  function polyval(coefficients, x) {
    var result = 0;
    for (var i = 0; i < coefficients.length; i++) result = result * x + coefficients[i];
    return result;
  }

  function erfcLarge(y) {  // y > 0.46875
    y = Math.min(y, 30.0);
    var ratio;
    if (y <= 4.0) {
      ratio = polyval(ERF_C, y) / polyval(ERF_D, y);
    } else {
      var t = 1.0 / (y * y);
      ratio = (INV_SQRT_PI - t * polyval(ERF_P, t) / polyval(ERF_Q, t)) / y;
    }
    // exp(-y^2) split at r = y rounded down to 1/16, so r^2 is exact (as in NumPy).
    var r = Math.floor(y * 16.0) / 16.0;
    return Math.exp(-r * r) * Math.exp(-(y - r) * (y + r)) * ratio;
  }

  function erfc(x) {
    if (Math.abs(x) <= 0.46875) {
      var t = x * x;
      return 1.0 - x * polyval(ERF_A, t) / polyval(ERF_B, t);
    }
    var tail = erfcLarge(Math.abs(x));
    return x < 0 ? 2.0 - tail : tail;
  }

  var SQRT_HALF = Math.sqrt(0.5);
  var SQRT_2_OVER_PI = Math.sqrt(2.0 / Math.PI);

  function sigmoid(x) { return 1 / (1 + Math.exp(-x)); }

  // Elementwise formulas, each built from its config (the activation's get_config).
  var ELEMENTWISE = {
    sigmoid: function () { return sigmoid; },
    tanh: function () { return Math.tanh; },
    relu: function () { return function (x) { return x > 0 ? x : 0; }; },
    leaky_relu: function (c) {
      var slope = number(c.negative_slope, 0.2);
      return function (x) { return x >= 0 ? x : slope * x; };
    },
    elu: function (c) {
      var alpha = number(c.alpha, 1.0);
      return function (x) { return x > 0 ? x : alpha * Math.expm1(Math.min(x, 0)); };
    },
    softplus: function () {  // log(1 + e^x) = max(x, 0) + log1p(e^-|x|)
      return function (x) { return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))); };
    },
    linear: function () { return null; },
    step: function (c) {
      var threshold = number(c.threshold, 0.0);
      return function (x) { return x > threshold ? 1 : 0; };
    },
    gelu: function (c) {
      if (c.approximate) {
        return function (x) {  // tanh rounds to +-1 past |x| = 10, so x is clipped there
          var xc = Math.min(Math.max(x, -10), 10);
          return 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (xc + 0.044715 * xc * xc * xc)));
        };
      }
      return function (x) { return x * 0.5 * erfc(-SQRT_HALF * x); };
    },
    silu: function () { return function (x) { return x / (1 + Math.exp(-x)); }; },
    capped_relu: function (c) {  // Keras' relu(x, negative_slope, max_value, threshold)
      var slope = number(c.negative_slope, 0), threshold = number(c.threshold, 0);
      var cap = c.max_value === null || c.max_value === undefined ? Infinity : c.max_value;
      return function (x) {
        var y = x > threshold ? Math.min(x, cap) : 0;
        return slope ? y - slope * Math.max(threshold - x, 0) : y;
      };
    },
  };

  function number(value, fallback) { return typeof value === "number" ? value : fallback; }

  /** In-place activation on a flat (n x width) matrix, from a config {name, ...}. */
  function activation(config) {
    var name = config && config.name;
    if (name === "softmax") return softmaxRows;
    if (!Object.prototype.hasOwnProperty.call(ELEMENTWISE, name)) {
      throw new Error("Unknown activation " + JSON.stringify(name) + ". Known: " +
        Object.keys(ELEMENTWISE).concat(["softmax"]).join(", "));
    }
    var f = ELEMENTWISE[name](config);
    if (f === null) return function () {};
    return function (values) {
      for (var i = 0; i < values.length; i++) values[i] = f(values[i]);
    };
  }

  function softmaxRows(values, width) {
    // subtracting the row max keeps exp <= 1 (glassnet's Softmax.forward)
    for (var start = 0; start < values.length; start += width) {
      var max = -Infinity, sum = 0, i;
      for (i = start; i < start + width; i++) if (values[i] > max) max = values[i];
      for (i = start; i < start + width; i++) {
        values[i] = Math.exp(values[i] - max);
        sum += values[i];
      }
      for (i = start; i < start + width; i++) values[i] /= sum;
    }
  }

  /** The model JSON as stages ready to run: {inputs, outputs, stages: [...]}. */
  function compile(model) {
    if (!model || !Array.isArray(model.layers) || typeof model.inputs !== "number") {
      throw new Error("compile: expected the model JSON of glassnet.web (inputs, layers)");
    }
    var width = model.inputs, stages = [], current = null;
    model.layers.forEach(function (layer) {
      if (layer.class_name === "Dense") {
        var n = layer.inputs, m = layer.units, W = new Float64Array(n * m);
        if (n !== width) throw new Error("Dense layer " + layer.name + " takes " + n +
          " inputs but receives " + width);
        for (var i = 0; i < n; i++) for (var j = 0; j < m; j++) W[i * m + j] = layer.W[i][j];
        current = {name: layer.name, inputs: n, units: m, W: W,
          b: Float64Array.from(layer.b), activations: [activation(layer.activation)]};
        stages.push(current);
        width = m;
      } else if (layer.class_name === "Activation") {
        if (current === null) throw new Error("An activation layer before any Dense layer");
        current.activations.push(activation(layer.activation));
      } else if (layer.class_name !== "Dropout") {  // Dropout is the identity at inference
        throw new Error("Unknown layer class " + JSON.stringify(layer.class_name));
      }
    });
    return {inputs: model.inputs, outputs: width, stages: stages};
  }

  function dense(stage, x, n) {
    var k = stage.inputs, m = stage.units, W = stage.W, b = stage.b;
    var out = new Float64Array(n * m);
    for (var r = 0; r < n; r++) {
      var o = r * m, xr = r * k;
      for (var j = 0; j < m; j++) out[o + j] = b[j];
      for (var i = 0; i < k; i++) {
        var xi = x[xr + i], wi = i * m;
        if (xi === 0) continue;
        for (j = 0; j < m; j++) out[o + j] += xi * W[wi + j];
      }
    }
    return out;
  }

  /**
   * Run a compiled model on n rows (flat Float64Array of n * inputs). Returns
   * {output, width, stages}: stages[k] holds Dense layer k's outputs after its
   * activations (every neuron's value) when keepStages is true.
   */
  function run(compiled, x, n, keepStages) {
    var kept = [];
    compiled.stages.forEach(function (stage) {
      x = dense(stage, x, n);
      stage.activations.forEach(function (f) { f(x, stage.units); });
      if (keepStages) kept.push(x);
    });
    return {output: x, width: compiled.outputs, stages: kept};
  }

  function checkRows(rows, width) {
    if (!Array.isArray(rows)) throw new Error("predict expects an array of input rows");
    var flat = new Float64Array(rows.length * width);
    rows.forEach(function (row, r) {
      if (!Array.isArray(row) && !ArrayBuffer.isView(row)) {
        throw new Error("predict: row " + r + " is not an array of " + width + " numbers");
      }
      if (row.length !== width) {
        throw new Error("predict: row " + r + " has " + row.length + " values; the model takes " +
          width);
      }
      for (var i = 0; i < width; i++) {
        var v = row[i];
        if (typeof v !== "number" || !isFinite(v)) {
          throw new Error("predict: row " + r + " holds " + String(v) + ", not a finite number");
        }
        flat[r * width + i] = v;
      }
    });
    return flat;
  }

  /** The model's outputs for an array of input rows, as an array of arrays. */
  function predict(model, rows) {
    var compiled = model && model.stages ? model : compile(model);
    var x = checkRows(rows, compiled.inputs);
    var result = run(compiled, x, rows.length, false), w = result.width, out = [];
    for (var r = 0; r < rows.length; r++) {
      out.push(Array.prototype.slice.call(result.output, r * w, (r + 1) * w));
    }
    return out;
  }

  /** Class probabilities of one output row, per the model JSON's output entry. */
  function probabilities(output, row) {
    var kind = output.probability, values = Array.prototype.slice.call(row);
    if (output.task === "binary") {
      var y = values[0], p = y;
      if (kind === "sigmoid") p = sigmoid(y);
      else if (kind === "tanh") p = (y + 1) / 2;
      p = Math.min(Math.max(p, 0), 1);
      return [1 - p, p];
    }
    if (output.task === "multiclass") {
      if (kind === "softmax") softmaxRows(values, values.length);
      return values;
    }
    return null;
  }

  return {
    activation: activation,
    compile: compile,
    erfc: erfc,
    predict: predict,
    probabilities: probabilities,
    run: run,
  };
});
