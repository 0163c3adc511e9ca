/* The playground's controls: every select, slider, toggle and button sends a command.
 *
 * GlassnetPlaygroundControls.create(constants, command) wires the page's static
 * controls to command(name, args), the same function window.glassnet.command is,
 * and returns sync(state), which sets every control from the server's
 * configuration (the server validates and clamps; the page only shows).
 */
(function (root) {
  "use strict";
  var V = root.GlassnetViews, PV = root.GlassnetPlaygroundView, el = V.el;
  var LEARNING_RATES = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
  var REGULARIZATION_RATES = [0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
  var DROPOUTS = [0, 0.1, 0.2, 0.3, 0.5];
  var ACTIVATION_NAMES = {tanh: "Tanh", relu: "ReLU", sigmoid: "Sigmoid", linear: "Linear",
    leaky_relu: "Leaky ReLU", elu: "ELU", softplus: "Softplus", gelu: "GELU", silu: "SiLU",
    step: "Step"};
  var DATASET_NAMES = {circle: "Circle", xor: "Exclusive or", gauss: "Gaussian",
    spiral: "Spiral", blobs: "Four clouds (4 classes)", spiral3: "Three spirals (3 classes)",
    "reg-plane": "Plane", "reg-gauss": "Multi Gaussian", upload: "Your CSV"};

  function byId(id) { return document.getElementById(id); }

  function fill(select, values, label) {
    select.textContent = "";
    values.forEach(function (value) {
      select.appendChild(el("option", {value: value}, label ? label(value) : value));
    });
  }

  /** Make a select show `value`, adding it as an option if the URL chose another. */
  function choose(select, value) {
    var text = String(value);
    var found = Array.prototype.some.call(select.options, function (o) { return o.value === text; });
    if (!found) select.appendChild(el("option", {value: text}, text));
    select.value = text;
  }

  function create(constants, command) {
    var state = {config: null, thumbnails: null, nTrain: 1, hasUpload: false, upload: null};
    var set = function (patch) { command("set", patch); };

    fill(byId("learning_rate"), LEARNING_RATES);
    fill(byId("regularization_rate"), REGULARIZATION_RATES);
    fill(byId("dropout"), DROPOUTS);
    fill(byId("activation"), constants.activations, function (a) { return ACTIVATION_NAMES[a] || a; });
    fill(byId("speed"), constants.speeds, function (s) {
      return s === 1 ? "1 epoch/frame (as the Playground)" : s + " epochs/frame";
    });
    ["learning_rate", "regularization_rate", "dropout", "speed"].forEach(function (key) {
      byId(key).addEventListener("change", function () {
        var patch = {};
        patch[key] = +byId(key).value;
        set(patch);
      });
    });
    ["activation", "regularization", "problem", "optimizer", "loss"].forEach(function (key) {
      byId(key).addEventListener("change", function () {
        var patch = {};
        patch[key] = byId(key).value;
        set(patch);
      });
    });
    ["train_percent", "noise", "batch_size"].forEach(function (key) {
      var input = byId(key);
      input.addEventListener("input", function () { byId(key + "-value").textContent = input.value; });
      input.addEventListener("change", function () {
        var patch = {};
        patch[key] = +input.value;
        set(patch);
      });
    });
    ["show_test", "discretize"].forEach(function (key) {
      byId(key).addEventListener("change", function () {
        var patch = {};
        patch[key] = byId(key).checked;
        set(patch);
      });
    });
    byId("reset-button").addEventListener("click", function () { command("reset"); });
    byId("step-button").addEventListener("click", function () { command("step"); });
    byId("play-pause-button").addEventListener("click", function () {
      command(byId("play-pause-button").dataset.playing === "true" ? "pause" : "play");
    });
    byId("regenerate-button").addEventListener("click", function () { command("regenerate"); });
    byId("add-layer").addEventListener("click", function () {
      var hidden = state.config.hidden;
      if (hidden.length < constants.max_layers) set({hidden: hidden.concat([2])});
    });
    byId("remove-layer").addEventListener("click", function () {
      var hidden = state.config.hidden;
      if (hidden.length > 0) set({hidden: hidden.slice(0, -1)});
    });
    Array.prototype.forEach.call(document.querySelectorAll(".preset"), function (button) {
      button.addEventListener("click", function () {
        var batch = button.dataset.batch === "all" ? state.nTrain : +button.dataset.batch;
        set({batch_size: batch});
      });
    });
    byId("compare-button").addEventListener("click", function () {
      byId("compare-legend").textContent = "Training three networks\u2026";
      command("compare");
    });
    ["data", "keras", "html"].forEach(function (what) {
      byId("download-" + what).addEventListener("click", function () {
        command("download", {what: what});
      });
    });
    byId("copy-code").addEventListener("click", function () {
      command("download", {what: "code"});
    });

    var features = byId("feature-list");
    constants.features.forEach(function (pair) {
      var row = el("label", {class: "feature", "data-feature": pair[0]});
      var box = el("input", {type: "checkbox", id: "feature-" + pair[0]});
      box.addEventListener("change", function () {
        var chosen = constants.features.map(function (p) { return p[0]; }).filter(function (name) {
          return byId("feature-" + name).checked;
        });
        set({features: chosen});
      });
      row.appendChild(box);
      row.appendChild(el("canvas", {class: "feature-thumb", width: 20, height: 20,
        id: "feature-thumb-" + pair[0]}));
      row.appendChild(el("span", {class: "feature-name", id: "feature-name-" + pair[0]},
        pair[1]));
      features.appendChild(row);
    });

    function datasetButtons(config, hasUpload) {
      var list = byId("dataset-list"), regression = config.problem === "regression";
      list.textContent = "";
      var names = (regression ? constants.regression_datasets : constants.classification_datasets)
        .slice();
      if (hasUpload) names.push("upload");
      names.forEach(function (name) {
        var button = el("button", {type: "button", class: "dataset", "data-dataset": name,
          title: DATASET_NAMES[name] || name});
        if (name === config.dataset) button.classList.add("selected");
        var canvas = el("canvas", {width: 48, height: 48});
        button.appendChild(canvas);
        button.appendChild(el("span", {}, DATASET_NAMES[name] || name));
        var sample = state.thumbnails && state.thumbnails[name];
        if (sample) PV.datasetThumb(canvas, sample, [[-6, 6], [-6, 6]], regression);
        if (name === "upload" && state.upload) {
          PV.datasetThumb(canvas, state.upload.points, state.upload.domain, regression);
        }
        button.addEventListener("click", function () { set({dataset: name}); });
        list.appendChild(button);
      });
    }

    /**
     * The hidden layers' +/- buttons and activation selects, above their columns
     * (columns: each column's x, size: a neuron's width), as narrow as the columns.
     */
    function layerControls(config, columns, size) {
      var box = byId("layer-controls");
      box.textContent = "";
      byId("layers-label").textContent = config.hidden.length + " hidden layer" +
        (config.hidden.length === 1 ? "" : "s");
      var spacing = columns.length > 1 ? columns[1] - columns[0] : 96;
      var width = Math.max(30, Math.min(96, spacing - 4));
      box.classList.toggle("compact", width < 80);
      config.hidden.forEach(function (units, k) {
        var block = el("div", {class: "layer-control", "data-layer": k,
          title: "Hidden layer " + (k + 1) + ": " + units + " neuron" + (units === 1 ? "" : "s")});
        block.style.left = Math.max(0, columns[k + 1] + size / 2 - width / 2) + "px";
        block.style.width = width + "px";
        var plus = el("button", {type: "button", class: "neurons-plus", title: "Add a neuron"}, "+");
        var minus = el("button", {type: "button", class: "neurons-minus",
          title: "Remove a neuron"}, "\u2212");
        plus.addEventListener("click", function () { resize(k, units + 1); });
        minus.addEventListener("click", function () { resize(k, units - 1); });
        block.appendChild(plus);
        block.appendChild(minus);
        block.appendChild(el("div", {class: "neurons-label"}, width < 80 ? String(units)
          : units + " neuron" + (units === 1 ? "" : "s")));
        var select = el("select", {class: "layer-activation", "data-layer": k,
          title: "This layer's activation (as above: the Activation chosen at the top)"});
        select.appendChild(el("option", {value: ""}, width < 80 ? "\u2014" : "as above"));
        constants.activations.forEach(function (a) {
          select.appendChild(el("option", {value: a}, ACTIVATION_NAMES[a] || a));
        });
        select.value = config.layer_activations[k] || "";
        select.addEventListener("change", function () {
          var chosen = config.layer_activations.slice();
          chosen[k] = select.value;
          set({layer_activations: chosen});
        });
        block.appendChild(select);
        box.appendChild(block);
      });
    }

    function resize(k, units) {
      if (units < 1 || units > constants.max_neurons) return;
      var hidden = state.config.hidden.slice();
      hidden[k] = units;
      set({hidden: hidden});
    }

    /** Show the configuration (and, after a reset, the data's facts) in the controls. */
    function sync(config, setup) {
      state.config = config;
      ["learning_rate", "regularization_rate", "dropout", "speed", "activation",
        "regularization", "problem", "optimizer", "loss"].forEach(function (key) {
        choose(byId(key), config[key]);
      });
      byId("loss").disabled = config.problem === "regression";
      ["train_percent", "noise", "batch_size"].forEach(function (key) {
        byId(key).value = String(config[key]);
        byId(key + "-value").textContent = String(config[key]);
      });
      byId("show_test").checked = config.show_test;
      byId("discretize").checked = config.discretize;
      constants.features.forEach(function (pair) {
        byId("feature-" + pair[0]).checked = config.features.indexOf(pair[0]) >= 0;
      });
      if (setup) {
        state.nTrain = setup.data.train.reduce(function (s, t) { return s + t; }, 0);
        byId("batch_size").max = String(Math.max(30, state.nTrain));
        byId("batch_size").value = String(config.batch_size);
        state.hasUpload = setup.upload !== null;
        if (config.dataset === "upload") state.upload = uploadThumb(setup, regression(config));
        if (!state.hasUpload) state.upload = null;
        datasetButtons(config, state.hasUpload);
        constants.features.forEach(function (pair) {
          PV.featureThumb(byId("feature-thumb-" + pair[0]), pair[0], setup.domain);
          // an upload's column names come from its file: text only, never markup
          byId("feature-name-" + pair[0]).textContent = setup.feature_labels[pair[0]];
        });
      }
    }

    function regression(config) { return config.problem === "regression"; }

    /** The uploaded points as a data set button draws them (labels in [-1, 1]). */
    function uploadThumb(setup, isRegression) {
      var labels = setup.data.labels, lo = Math.min.apply(null, labels);
      var hi = Math.max.apply(null, labels), half = Math.max((hi - lo) / 2, 1e-12);
      var points = setup.data.points.map(function (p, r) {
        return [p[0], p[1], isRegression ? (labels[r] - (lo + hi) / 2) / half : labels[r]];
      });
      return {points: points, domain: setup.domain};
    }

    function thumbnails(datasets) {
      state.thumbnails = datasets;
      if (state.config) datasetButtons(state.config, state.hasUpload);
    }

    return {sync: sync, layerControls: layerControls, thumbnails: thumbnails,
      datasetButtons: datasetButtons};
  }

  root.GlassnetPlaygroundControls = {create: create};
})(typeof self !== "undefined" ? self : this);
