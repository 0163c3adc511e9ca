// The playground's page helpers that need no browser, under node --test:
// the loss text, the socket's token and URL parsing, and a data point's drawing
// (views.js's point(), on a context that records what it is asked to draw).
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");

const ASSETS = path.join(__dirname, "..", "..", "src", "glassnet", "web", "assets");
const V = require(path.join(ASSETS, "views.js")).GlassnetViews;
const D = require(path.join(ASSETS, "playground_draw.js")).GlassnetPlaygroundDraw;
const S = require(path.join(ASSETS, "playground_socket.js")).GlassnetPlaygroundSocket;

test("a loss shows 3 decimals, or 3 significant digits below 0.01", () => {
  assert.equal(D.lossText(1.23456), "1.235");
  assert.equal(D.lossText(0.044), "0.044");
  assert.equal(D.lossText(0.01), "0.010");
  // a regression's loss of 0.000314 is not "0.000"
  assert.equal(D.lossText(0.00031377823), "0.000314");
  assert.equal(D.lossText(0), "0.000");
  assert.equal(D.lossText(null), "");
  assert.equal(D.lossText(NaN), "NaN");
});

test("a hovered weight or bias is described with its value", () => {
  const weight = {kind: "weight", layer: "hidden_1", from: 1, to: 3, value: 0.03820337};
  assert.equal(D.describe(weight), "Weight hidden_1: 1 \u2192 3 = 0.0382");
  const bias = {kind: "bias", layer: "output", to: 0, value: -1.5};
  assert.equal(D.describe(bias), "Bias output: neuron 0 = -1.5000");
});

test("the token comes from the URL fragment, the configuration from the query", () => {
  assert.equal(S.tokenFromHash("#token=abc-_9"), "abc-_9");
  assert.equal(S.tokenFromHash("#x=1&token=a%2Bb"), "a+b");
  assert.equal(S.tokenFromHash(""), null);
  assert.equal(S.tokenFromHash("#tokens=abc"), null);
  assert.deepEqual(S.urlConfig("?dataset=spiral&hidden=8,4"), {dataset: "spiral", hidden: "8,4"});
  assert.match(S.closeReason(1008), /token does not match/);
  assert.match(S.closeReason(1006), /disconnected \(1006\)/);
});

test("a data point: its colour inside a ring, and a dark edge outside both", () => {
  const calls = [];
  const context = {
    beginPath() { calls.push(["path"]); },
    arc(x, y, r) { calls.push(["arc", x, y, r]); },
    fill() { calls.push(["fill", this.fillStyle]); },
    stroke() { calls.push(["stroke", this.strokeStyle, this.lineWidth]); },
  };
  V.point(context, 30, 40, 8, [245, 147, 34], "#fff");
  const arcs = calls.filter((c) => c[0] === "arc");
  const fills = calls.filter((c) => c[0] === "fill");
  const strokes = calls.filter((c) => c[0] === "stroke");
  assert.deepEqual(fills, [["fill", "rgb(245,147,34)"]]);
  assert.equal(strokes[0][1], "#fff");
  assert.match(strokes[1][1], /^rgba\(0, 0, 0, /);
  // the edge lies outside the ring: radius + half the ring's width < the edge's radius
  // minus half its width
  const ringOuter = arcs[0][3] + strokes[0][2] / 2;
  const edgeInner = arcs[1][3] - strokes[1][2] / 2;
  assert.ok(edgeInner >= ringOuter, `edge ${edgeInner} inside ring ${ringOuter}`);
  assert.deepEqual(arcs.map((a) => [a[1], a[2]]), [[30, 40], [30, 40]]);
});
