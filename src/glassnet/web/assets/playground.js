/* The playground page: one WebSocket to glassnet, every neuron drawn in the page.
 *
 * The server trains; this page draws. A "setup" message brings a new model (as the
 * exported page's JSON), the data and the configuration; each "frame" brings the
 * epoch, the losses and the weights, and the page computes every heatmap with the
 * shared JavaScript forward pass (forward.js). Frames are drawn newest first: one
 * that arrives while another waits replaces it.
 *
 * window.glassnet, for the console and the tests:
 *   predict(rows), model, setInputs([x, y]) (a probe point), domain,
 *   state ({epoch, loss_train, loss_test, accuracy_*, playing, config}),
 *   command(name, args): what the buttons send (reset, step, play, pause, set...),
 *   data (points, labels, train flags), stats ({frames, times}), messages.
 */
(function () {
  "use strict";
  var F = window.GlassnetForward, V = window.GlassnetViews, PV = window.GlassnetPlaygroundView;
  var constants = JSON.parse(document.getElementById("glassnet-playground").textContent);
  var THUMB = 20;
  var P = {socket: null, config: null, generation: 0, model: null, compiled: null,
    features: [], classes: null, domain: [[-6, 6], [-6, 6]], data: null, epoch: 0,
    loss_train: null, loss_test: null, accuracy_train: null, accuracy_test: null,
    playing: false, history: [], stats: {frames: 0, times: []}, messages: [],
    neuron: null, probe: null, pending: null, scheduled: false, diagram: null,
    pendingCopy: false, connected: false};
  var controls = window.GlassnetPlaygroundControls.create(constants, command);

  function byId(id) { return document.getElementById(id); }

  // -- the connection -------------------------------------------------------------
  function tokenFromHash() {
    var match = /(?:^|[#&])token=([^&]+)/.exec(location.hash);
    return match ? decodeURIComponent(match[1]) : null;
  }

  function urlConfig() {
    var patch = {};
    new URLSearchParams(location.search).forEach(function (value, key) { patch[key] = value; });
    return patch;
  }

  function connect(token) {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + "/ws");
    P.socket = socket;
    socket.addEventListener("open", function () {
      socket.send(JSON.stringify({token: token, config: urlConfig()}));
    });
    socket.addEventListener("message", function (event) { receive(JSON.parse(event.data)); });
    socket.addEventListener("close", function (event) {
      P.connected = false;
      var text = event.code === 1008 ? "refused: the token does not match this server"
        : "disconnected (" + event.code + "): restart glassnet playground and open its link";
      byId("connection").textContent = text;
      byId("connection").className = "connection closed";
    });
  }

  function command(name, args) {
    if (!P.socket || P.socket.readyState !== WebSocket.OPEN) {
      throw new Error("not connected to the playground server");
    }
    P.socket.send(JSON.stringify({command: name, args: args || {}}));
  }

  function receive(message) {
    if (message.type === "setup") setup(message);
    else if (message.type === "frame") frame(message);
    else if (message.type === "status") showPlaying(message.playing);
    else if (message.type === "config") configChanged(message.config);
    else if (message.type === "thumbnails") controls.thumbnails(message.datasets);
    else if (message.type === "notice") message.messages.forEach(function (m) { say(m, "notice"); });
    else if (message.type === "error") error(message);
    else if (message.type === "file") file(message);
    else if (message.type === "compare") {
      PV.compareChart(byId("compare-chart"), byId("compare-legend"), message);
    }
  }

  function say(text, kind) {
    P.messages.push({kind: kind, text: text});
    var item = V.el("p", {class: "message " + kind}, text);
    byId("messages").appendChild(item);
    setTimeout(function () { item.remove(); }, 9000);
  }

  function error(message) {
    say(message.message, "error");
    if (message.command === "upload") {
      byId("upload-message").textContent = message.message;
      byId("upload-message").className = "message error";
    }
  }

  function file(message) {
    var bytes = atob(message.base64);
    if (P.pendingCopy && message.name.slice(-3) === ".py") {
      P.pendingCopy = false;
      var code = byId("code");
      code.textContent = bytes;
      code.hidden = false;
      if (navigator.clipboard) {
        navigator.clipboard.writeText(bytes).then(function () {
          say("Copied the script to the clipboard.", "notice");
        }, function () { say("Select the script below and copy it.", "notice"); });
      }
      return;
    }
    var array = new Uint8Array(bytes.length);
    for (var i = 0; i < bytes.length; i++) array[i] = bytes.charCodeAt(i);
    var link = V.el("a", {download: message.name});
    link.href = URL.createObjectURL(new Blob([array], {type: message.mime}));
    document.body.appendChild(link);
    link.click();
    link.remove();
  }

  // -- messages -------------------------------------------------------------------
  function setup(message) {
    P.connected = true;
    byId("connection").textContent = "connected";
    byId("connection").className = "connection open";
    P.generation = message.generation;
    P.config = message.config;
    P.model = message.model;
    P.compiled = F.compile(P.model);
    P.features = message.features;
    P.classes = message.classes;
    P.domain = message.domain;
    P.data = message.data;
    P.neuron = null;
    P.pending = null;
    P.history = [];
    controls.sync(P.config, message);
    var output = P.model.output;
    P.diagram = V.network(byId("network"), P.model, {
      inputLabels: P.features,
      outputLabels: output.task === "multiclass" ? P.classes : ["output"],
      thumbs: true,
      width: byId("network").clientWidth,
      onHover: function (info, event) {
        V.hovercard(byId("hovercard"), info === null ? null : describe(info) +
          " (click to edit)", event);
      },
      onClick: editWeight,
      onNeuron: function (stage, unit) {
        P.neuron = stage === null || stage < 0 ? null : {stage: stage, unit: unit};
        draw();
      },
    });
    controls.layerControls(P.config, P.diagram.columns);
    writeUrl();
    draw();
  }

  function configChanged(config) {
    P.config = config;
    controls.sync(config, null);
    writeUrl();
    draw();
  }

  function frame(message) {
    if (message.generation !== P.generation) return;  // a frame of a replaced model
    P.stats.frames += 1;
    P.stats.times.push(performance.now());
    if (P.stats.times.length > 600) P.stats.times.shift();
    P.pending = message;
    if (!P.scheduled) {
      P.scheduled = true;
      window.requestAnimationFrame(render);
    }
  }

  function render() {
    P.scheduled = false;
    var message = P.pending;
    if (message === null) return;
    P.pending = null;
    var dense = P.model.layers.filter(function (l) { return l.class_name === "Dense"; });
    message.weights.forEach(function (w, k) {
      var W = PV.decodeFloats(w.W), b = PV.decodeFloats(w.b), layer = dense[k];
      for (var i = 0; i < layer.inputs; i++) {
        for (var j = 0; j < layer.units; j++) layer.W[i][j] = W[i * layer.units + j];
      }
      for (j = 0; j < layer.units; j++) layer.b[j] = b[j];
    });
    P.compiled = F.compile(P.model);
    ["epoch", "loss_train", "loss_test", "accuracy_train", "accuracy_test", "history"]
      .forEach(function (key) { P[key] = message[key]; });
    showPlaying(message.playing);
    P.diagram.update(P.model);
    draw();
  }

  function showPlaying(playing) {
    P.playing = playing;
    var button = byId("play-pause-button");
    button.dataset.playing = playing ? "true" : "false";
    button.textContent = playing ? "\u275A\u275A Pause" : "\u25B6 Play";
  }

  function writeUrl() {
    var params = new URLSearchParams();
    Object.keys(P.config).forEach(function (key) {
      var value = P.config[key];
      params.set(key, Array.isArray(value) ? value.join(",") : String(value));
    });
    history.replaceState(null, "", "?" + params.toString() + location.hash);
  }

  // -- drawing --------------------------------------------------------------------
  function describe(info) {
    var what = info.kind === "weight"
      ? "Weight " + info.layer + ": " + info.from + " \u2192 " + info.to
      : "Bias " + info.layer + ": neuron " + info.to;
    return what + " = " + V.format(info.value, 4);
  }

  function regressionScale() {
    if (P.config.dataset !== "upload") return {center: 0, half: 1, unit: 0, lo: -1, hi: 1};
    var lo = Math.min.apply(null, P.data.labels), hi = Math.max.apply(null, P.data.labels);
    return {center: (lo + hi) / 2, half: Math.max((hi - lo) / 2, 1e-12), unit: 0, lo: lo, hi: hi};
  }

  function draw() {
    if (!P.model) return;
    var rowOf = PV.featureRow(P.config.features), n = P.model.inputs;
    var weights = P.compiled.stages.reduce(function (s, st) { return s + st.W.length; }, 0);
    var density = weights > 1500 ? 50 : 100;
    var grid = V.gridInputs(P.domain, density, n, rowOf);
    var result = F.run(P.compiled, grid, density * density, P.neuron !== null);
    var output = P.model.output, scale = regressionScale(), colour, caption = "Model output";
    if (P.neuron !== null && P.neuron.stage < P.compiled.stages.length - 1) {
      var stage = P.compiled.stages[P.neuron.stage];
      colour = V.neuronColourer(result.stages[P.neuron.stage], stage.units, P.neuron.unit).colour;
      caption = "Neuron " + P.neuron.unit + " of " + stage.name;
    } else if (P.neuron !== null) {
      colour = V.outputUnitColourer(output, result.output, result.width, P.neuron.unit);
      caption = "Output unit " + P.neuron.unit;
    } else {
      var paint = V.outputColourer(output, result.width, P.config.discretize, scale);
      colour = function (index, out) { return paint(result.output, index, out); };
    }
    V.paintGrid(byId("heatmap"), density, colour);
    byId("heatmap-caption").textContent = caption + "; X1 from " + P.domain[0][0] + " to " +
      P.domain[0][1] + ", X2 from " + P.domain[1][0] + " to " + P.domain[1][1];
    drawThumbs(rowOf);
    drawPoints(scale);
    drawLegend(output, scale);
    byId("epoch-number").textContent = PV.epochText(P.epoch);
    byId("loss-train").textContent = V.format(P.loss_train, 3);
    byId("loss-test").textContent = V.format(P.loss_test, 3);
    byId("accuracy").textContent = P.accuracy_train === null ? "" : "Accuracy: training " +
      (100 * P.accuracy_train).toFixed(1) + "%, test " + (100 * P.accuracy_test).toFixed(1) + "%";
    PV.lossChart(byId("loss-chart"), P.history);
    showProbe();
  }

  function drawThumbs(rowOf) {
    var grid = V.gridInputs(P.domain, THUMB, P.model.inputs, rowOf);
    var result = F.run(P.compiled, grid, THUMB * THUMB, true), thumbs = P.diagram.thumbs;
    thumbs.hidden.forEach(function (t) {
      var units = P.compiled.stages[t.stage].units;
      V.paintGrid(t.canvas, THUMB, V.neuronColourer(result.stages[t.stage], units, t.unit).colour);
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
      var rgb = regression ? V.diverging((label - scale.center) / scale.half) : V.classColour(label);
      var x = (p[0] - d[0][0]) / (d[0][1] - d[0][0]) * canvas.width;
      var y = (d[1][1] - p[1]) / (d[1][1] - d[1][0]) * canvas.height;
      context.beginPath();
      context.arc(x, y, 6, 0, 2 * Math.PI);
      context.fillStyle = V.css(rgb);
      context.fill();
      context.lineWidth = train ? 1.5 : 2.5;
      context.strokeStyle = train ? "#fff" : "#111";
      context.stroke();
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

  function drawLegend(output, scale) {
    var box = byId("legend");
    if (output.task === "multiclass") {
      box.textContent = "";
      P.classes.forEach(function (name, k) {
        var item = V.el("span", {class: "legend-item"}), swatch = V.el("span", {class: "swatch"});
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

  function editWeight(info, event) {
    var form = byId("weight-editor");
    byId("weight-name").textContent = describe(info).split(" = ")[0];
    byId("weight-value").value = String(info.value);
    form.hidden = false;
    var box = form.parentNode.getBoundingClientRect();
    form.style.left = (event.clientX - box.left + 10) + "px";
    form.style.top = (event.clientY - box.top + 10) + "px";
    form.dataset.info = JSON.stringify({stage: info.stage, kind: info.kind,
      from: info.kind === "weight" ? info.from : 0, to: info.to});
    byId("weight-value").focus();
  }

  byId("weight-editor").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = byId("weight-editor"), value = +byId("weight-value").value;
    form.hidden = true;
    if (!isFinite(value)) return;
    var args = JSON.parse(form.dataset.info);
    args.value = value;
    command("set_weight", args);
  });
  byId("weight-cancel").addEventListener("click", function () { byId("weight-editor").hidden = true; });

  byId("upload-input").addEventListener("change", function () {
    var chosen = byId("upload-input").files[0], message = byId("upload-message");
    if (!chosen) return;
    if (chosen.size > constants.max_upload_bytes) {
      message.textContent = chosen.name + " has " + chosen.size.toLocaleString() +
        " bytes; the playground takes CSV files up to " +
        constants.max_upload_bytes.toLocaleString() + " bytes.";
      message.className = "message error";
      return;
    }
    message.textContent = "Uploading " + chosen.name + "\u2026";
    message.className = "message";
    chosen.arrayBuffer().then(function (buffer) {
      command("upload", {name: chosen.name, base64: PV.encodeBytes(buffer)});
    });
  });

  byId("copy-code").addEventListener("click", function () { P.pendingCopy = true; });

  byId("token-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var token = byId("token-input").value.trim();
    byId("token-form").hidden = true;
    history.replaceState(null, "", location.pathname + location.search + "#token=" +
      encodeURIComponent(token));
    connect(token);
  });

  window.glassnet = {
    command: command,
    predict: function (rows) { return F.predict(P.compiled, rows); },
    setInputs: function (values) {
      if (!Array.isArray(values) || values.length !== 2 || !values.every(isFinite)) {
        throw new Error("setInputs expects [x, y]: the two coordinates of a point");
      }
      P.probe = values.slice();
      draw();
      var row = new Float64Array(P.model.inputs);
      PV.featureRow(P.config.features)(values[0], values[1], row);
      return F.predict(P.compiled, [Array.from(row)])[0];
    },
    get model() { return P.model; },
    get domain() { return P.domain.map(function (r) { return r.slice(); }); },
    get data() { return P.data; },
    get state() {
      return {epoch: P.epoch, loss_train: P.loss_train, loss_test: P.loss_test,
        accuracy_train: P.accuracy_train, accuracy_test: P.accuracy_test, playing: P.playing,
        generation: P.generation, connected: P.connected,
        config: P.config === null ? null : JSON.parse(JSON.stringify(P.config))};
    },
    stats: P.stats,
    messages: P.messages,
  };

  var token = tokenFromHash();
  if (token) {
    connect(token);
  } else {
    byId("connection").textContent = "no token";
    byId("token-form").hidden = false;
  }
})();
