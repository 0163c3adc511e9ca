/* The playground page: one WebSocket to glassnet, every neuron drawn in the page.
 *
 * The server trains; this page draws. A "setup" message brings a new model (as the
 * exported page's JSON), the data and the configuration; each "frame" brings the
 * epoch, the losses and the weights, and the page computes every heatmap with the
 * shared JavaScript forward pass (forward.js). Frames are drawn newest first: one
 * that arrives while another waits replaces it. The socket is
 * playground_socket.js's, the drawing playground_draw.js's, the controls
 * playground_controls.js's.
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
  var S = window.GlassnetPlaygroundSocket, D = window.GlassnetPlaygroundDraw;
  var constants = JSON.parse(document.getElementById("glassnet-playground").textContent);
  var P = {socket: null, config: null, generation: 0, model: null, compiled: null,
    features: [], featureLabels: {x: "X1", y: "X2"}, classes: null,
    domain: [[-6, 6], [-6, 6]], data: null, epoch: 0,
    loss_train: null, loss_test: null, accuracy_train: null, accuracy_test: null,
    playing: false, history: [], stats: {frames: 0, times: []}, messages: [],
    neuron: null, probe: null, pending: null, scheduled: false, diagram: null,
    pendingCopy: false, connected: false, uploading: null};
  var controls = window.GlassnetPlaygroundControls.create(constants, command);
  var draw = D.create(P).draw;

  function byId(id) { return document.getElementById(id); }

  // -- the connection -------------------------------------------------------------
  function connect(token) {
    P.socket = S.connect(token, {onMessage: receive, onClose: function (code) {
      P.connected = false;
      byId("connection").textContent = S.closeReason(code);
      byId("connection").className = "connection closed";
    }});
  }

  function command(name, args) {
    if (!P.socket) throw new Error("not connected to the playground server");
    P.socket.send(name, args);
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
      P.uploading = null;
      byId("upload-message").textContent = message.message;
      byId("upload-message").className = "message error";
    }
  }

  function file(message) {
    if (P.pendingCopy && message.name.slice(-3) === ".py") {
      P.pendingCopy = false;
      var code = byId("code"), text = S.fileText(message);
      code.textContent = text;
      code.hidden = false;
      if (navigator.clipboard) {
        navigator.clipboard.writeText(text).then(function () {
          say("Copied the script to the clipboard.", "notice");
        }, function () { say("Select the script below and copy it.", "notice"); });
      }
      return;
    }
    S.saveFile(message);
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
    P.featureLabels = message.feature_labels;
    P.classes = message.classes;
    P.domain = message.domain;
    P.data = message.data;
    P.neuron = null;
    P.pending = null;
    P.history = [];
    controls.sync(P.config, message);
    if (P.uploading !== null && P.config.dataset === "upload") uploaded(message);
    var output = P.model.output;
    P.diagram = V.network(byId("network"), P.model, {
      inputLabels: P.features,
      outputLabels: output.task === "multiclass" ? P.classes : ["output"],
      thumbs: true,
      width: byId("network").clientWidth,
      onHover: function (info, event) {
        V.hovercard(byId("hovercard"), info === null ? null : D.describe(info) +
          " (click to edit)", event);
      },
      onClick: editWeight,
      onNeuron: function (stage, unit) {
        P.neuron = stage === null || stage < 0 ? null : {stage: stage, unit: unit};
        draw();
      },
    });
    controls.layerControls(P.config, P.diagram.columns, P.diagram.size);
    writeUrl();
    draw();
  }

  /** The upload message once the server trains on the file. */
  function uploaded(message) {
    var points = message.data.points.length, task = P.model.output.task;
    var what = task === "regression" ? "a regression"
      : P.classes.length + " classes (" + P.classes.join(", ") + ")";
    byId("upload-message").textContent = "Training on " + P.uploading + ": " + points +
      " points, " + what + ".";
    byId("upload-message").className = "message";
    P.uploading = null;
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

  // -- the page's own controls ------------------------------------------------------
  function editWeight(info, event) {
    var form = byId("weight-editor");
    byId("weight-name").textContent = D.describe(info).split(" = ")[0];
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
    P.uploading = chosen.name;
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

  var token = S.tokenFromHash(location.hash);
  if (token) {
    connect(token);
  } else {
    byId("connection").textContent = "no token";
    byId("token-form").hidden = false;
  }
})();
