// The JavaScript forward pass (src/glassnet/web/assets/forward.js) under node --test.
//
// tests/test_web_js.py runs this file with GLASSNET_PARITY pointing at a JSON file of
// models and glassnet's own predict() outputs for every activation; the parity
// test compares the two. The other tests need nothing but node.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");

const F = require(path.join(__dirname, "..", "..", "src", "glassnet", "web", "assets",
  "forward.js"));

function close(actual, expected, tolerance, what) {
  const error = Math.abs(actual - expected);
  assert.ok(error <= tolerance * Math.max(1, Math.abs(expected)),
    `${what}: ${actual} vs ${expected} (error ${error})`);
}

function apply(config, values, width) {
  const flat = Float64Array.from(values);
  F.activation(config)(flat, width || values.length);
  return Array.from(flat);
}

test("erfc matches tabulated values, including the far tail", () => {
  // erfc(0) = 1, erfc(1), erfc(-1) = 2 - erfc(1), erfc(5) from Abramowitz & Stegun 7.1
  close(F.erfc(0), 1, 1e-15, "erfc(0)");
  close(F.erfc(1), 0.15729920705028513, 1e-15, "erfc(1)");
  close(F.erfc(-1), 1.8427007929497148, 1e-15, "erfc(-1)");
  close(F.erfc(0.3), 0.6713732405408726, 1e-15, "erfc(0.3)");
  close(F.erfc(5) / 1.5374597944280349e-12, 1, 1e-13, "erfc(5)");
  assert.equal(F.erfc(40), 0);
});

test("each activation on a hand-worked example", () => {
  // sigmoid(0) = 1/2, sigmoid(ln 3) = 3/4; tanh(0) = 0
  const s = apply({name: "sigmoid"}, [0, Math.log(3)]);
  close(s[0], 0.5, 1e-15, "sigmoid(0)");
  close(s[1], 0.75, 1e-15, "sigmoid(ln 3)");
  assert.deepEqual(apply({name: "relu"}, [-2, 0, 3]), [0, 0, 3]);
  assert.deepEqual(apply({name: "leaky_relu", negative_slope: 0.1}, [-2, 3]), [-0.2, 3]);
  // elu(-1) = e^-1 - 1
  close(apply({name: "elu", alpha: 1}, [-1])[0], Math.exp(-1) - 1, 1e-15, "elu(-1)");
  // softplus(0) = ln 2; softplus(1e4) = 1e4 without overflow
  const sp = apply({name: "softplus"}, [0, 1e4]);
  close(sp[0], Math.LN2, 1e-15, "softplus(0)");
  assert.equal(sp[1], 1e4);
  assert.deepEqual(apply({name: "step", threshold: 0}, [-0.5, 0, 2]), [0, 0, 1]);
  assert.deepEqual(apply({name: "linear"}, [-1.5, 2]), [-1.5, 2]);
  // gelu(1) = Phi(1) = 0.8413447460685429 (exact); silu(1) = 1 / (1 + e^-1)
  close(apply({name: "gelu", approximate: false}, [1])[0], 0.8413447460685429, 1e-15, "gelu");
  close(apply({name: "silu"}, [1])[0], 1 / (1 + Math.exp(-1)), 1e-15, "silu");
  // Keras relu(x, negative_slope=0.1, max_value=1.5, threshold=0.2)
  const capped = apply({name: "capped_relu", negative_slope: 0.1, max_value: 1.5,
    threshold: 0.2}, [-0.8, 0.5, 3]);
  close(capped[0], -0.1, 1e-15, "capped below the threshold");
  assert.deepEqual(capped.slice(1), [0.5, 1.5]);
});

test("softmax normalizes each row and survives logits of 1e4", () => {
  // softmax([0, ln 3]) = [1/4, 3/4]; a second row of huge logits stays finite
  const rows = apply({name: "softmax"}, [0, Math.log(3), 1e4, -1e4], 2);
  close(rows[0], 0.25, 1e-15, "row 0");
  close(rows[1], 0.75, 1e-15, "row 0");
  assert.deepEqual(rows.slice(2), [1, 0]);
});

test("a 2-2-1 sigmoid network gives seeds/000's 0.7216325609518421", () => {
  // every neuron w = [0, 1], b = 0, input [2, 3]: h = sigmoid(3), o = sigmoid(2 h)
  const model = {inputs: 2, layers: [
    {class_name: "Dense", name: "h", inputs: 2, units: 2, activation: {name: "sigmoid"},
      W: [[0, 0], [1, 1]], b: [0, 0]},
    {class_name: "Dense", name: "o", inputs: 2, units: 1, activation: {name: "sigmoid"},
      W: [[0], [1]], b: [0]},
  ]};
  close(F.predict(model, [[2, 3]])[0][0], 0.7216325609518421, 1e-15, "o1");
});

test("Dropout is the identity and Activation layers apply in order", () => {
  const model = {inputs: 1, layers: [
    {class_name: "Dense", name: "d", inputs: 1, units: 2, activation: {name: "linear"},
      W: [[1, -1]], b: [0, 0]},
    {class_name: "Dropout", name: "drop", rate: 0.5},
    {class_name: "Activation", name: "act", activation: {name: "relu"}},
  ]};
  assert.deepEqual(F.predict(model, [[2], [-3]]), [[2, 0], [0, 3]]);
});

test("bad rows and unknown layers are refused with a message", () => {
  const model = {inputs: 2, layers: [{class_name: "Dense", name: "d", inputs: 2, units: 1,
    activation: {name: "linear"}, W: [[1], [1]], b: [0]}]};
  assert.throws(() => F.predict(model, [[1]]), /row 0 has 1 values; the model takes 2/);
  assert.throws(() => F.predict(model, [[1, NaN]]), /not a finite number/);
  assert.throws(() => F.predict(model, "rows"), /array of input rows/);
  assert.throws(() => F.compile({inputs: 1, layers: [{class_name: "Conv2D"}]}),
    /Unknown layer class "Conv2D"/);
  assert.throws(() => F.activation({name: "rleu"}), /Unknown activation "rleu"/);
});

test("probabilities read each kind of output", () => {
  close(F.probabilities({task: "binary", probability: "identity"}, [0.8])[1], 0.8, 1e-15, "p");
  close(F.probabilities({task: "binary", probability: "tanh"}, [0.5])[1], 0.75, 1e-15, "tanh");
  close(F.probabilities({task: "binary", probability: "sigmoid"}, [0])[0], 0.5, 1e-15, "logit");
  const soft = F.probabilities({task: "multiclass", probability: "softmax"}, [0, Math.log(3)]);
  close(soft[1], 0.75, 1e-15, "softmax");
  assert.equal(F.probabilities({task: "regression", probability: null}, [3]), null);
});

test("parity with glassnet's predict for every activation", (t) => {
  const fixture = process.env.GLASSNET_PARITY;
  if (!fixture) {
    t.skip("set GLASSNET_PARITY (tests/test_web_js.py writes the fixture and sets it)");
    return;
  }
  const cases = JSON.parse(fs.readFileSync(fixture, "utf8")).cases;
  assert.ok(cases.length >= 12, "one case per activation at least");
  for (const c of cases) {
    const got = F.predict(c.model, c.x);
    assert.equal(got.length, c.y.length, c.name);
    got.forEach((row, r) => row.forEach((v, j) => {
      close(v, c.y[r][j], c.tolerance, `${c.name} row ${r} output ${j}`);
    }));
  }
});
