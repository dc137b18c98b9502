// Warp editor: plotly.js plot of t_new -> t_ref with draggable manual anchors.
// Click empty plot area: add an anchor there. Drag an anchor: move it. Right-click or
// shift-click an anchor: delete it. Each edit sends {action, anchors, seq} as trigger "edit".
const PLOTLY_SRC = "app/static/vendor/plotly.min.js";
const HIT_PX = 12;
const CONF_SCALE = [[0, "#d73027"], [0.5, "#fee08b"], [1, "#1a9850"]];

function loadPlotly() {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!window.__mtbPlotlyLoading) {
    window.__mtbPlotlyLoading = new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = PLOTLY_SRC;
      s.onload = () => resolve(window.Plotly);
      s.onerror = () => reject(new Error("could not load " + PLOTLY_SRC));
      document.head.appendChild(s);
    });
  }
  return window.__mtbPlotlyLoading;
}

function figure(d, anchors) {
  const traces = [
    {x: d.pairs.x, y: d.pairs.y, mode: "markers", type: "scatter", name: "verified pairs",
     marker: {size: 5, opacity: 0.8, color: d.pairs.c, cmin: 0, cmax: 1, colorscale: CONF_SCALE,
              colorbar: {title: {text: "confidence"}, thickness: 12}},
     hovertemplate: "new %{x:.2f} s → ref %{y:.2f} s<br>confidence %{marker.color:.2f}<extra></extra>"},
    {x: d.warp.x, y: d.warp.y, mode: "lines", type: "scatter", name: "warp", uid: "mtbwarp",
     line: {color: "#4da3ff", width: 2.5}, hoverinfo: "skip"},
    {x: anchors.map(a => a[0]), y: anchors.map(a => a[1]), mode: "markers", type: "scatter",
     name: "anchors", marker: {size: 15, color: "#f28c28", symbol: "diamond",
                               line: {color: "white", width: 2}},
     hovertemplate: "anchor new %{x:.2f} s → ref %{y:.2f} s<extra></extra>"},
    {x: (d.markers || []).map(m => m.t_new), y: (d.markers || []).map(m => m.t_ref),
     text: (d.markers || []).map(m => m.name), mode: "markers+text", type: "scatter",
     name: "markers", textposition: "top left", textfont: {size: 11, color: "#bbb"},
     marker: {size: 9, symbol: "triangle-up", color: (d.markers || []).map(m => m.confidence),
              cmin: 0, cmax: 1, colorscale: CONF_SCALE, line: {color: "#222", width: 1}},
     hovertemplate: "%{text}<br>new %{x:.2f} s → ref %{y:.2f} s<extra></extra>"},
  ];
  const shapes = [];
  if (d.overlap) {
    shapes.push({type: "rect", xref: "x", yref: "paper", x0: d.overlap[0], x1: d.overlap[1],
                 y0: 0, y1: 1, fillcolor: "rgba(77,163,255,0.07)", line: {width: 0}, layer: "below"});
  }
  for (const [a, b] of d.low || []) {
    shapes.push({type: "rect", xref: "x", yref: "paper", x0: a, x1: b, y0: 0, y1: 1,
                 fillcolor: "rgba(255,80,80,0.18)", line: {width: 0}, layer: "below"});
  }
  const layout = {
    height: d.height || 460, margin: {l: 60, r: 20, t: 30, b: 50}, dragmode: false,
    paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)", font: {color: "#ccc"},
    xaxis: {title: {text: "new run t_new (s)"}, range: d.xrange, gridcolor: "#333", zeroline: false},
    yaxis: {title: {text: "reference t_ref (s)"}, range: d.yrange, gridcolor: "#333", zeroline: false},
    legend: {orientation: "h", y: 1.08}, shapes: shapes, uirevision: "keep",
  };
  return {traces, layout};
}

export default function (component) {
  const {data, parentElement, setTriggerValue} = component;
  let st = parentElement.__mtbWarp;
  if (!st) {
    st = parentElement.__mtbWarp = {seq: 0, drag: null, anchors: []};
    const root = document.createElement("div");
    root.className = "mtb-warp";
    root.innerHTML = '<div class="mtb-warp-plot" data-testid="warp-plot"></div>' +
      '<div class="mtb-warp-help">Click the plot to add an anchor · drag an anchor to move it · ' +
      'right-click or shift-click an anchor to delete it · hover a point to see the two frames it pairs</div>' +
      '<div class="mtb-warp-frames" data-testid="pair-frames" style="display:flex;gap:8px;margin-top:6px">' +
      '<figure style="flex:0 1 360px;margin:0"><figcaption class="pn" style="font-size:0.8rem;opacity:0.8">new run</figcaption>' +
      '<video class="pair-new" data-testid="pair-new" muted playsinline preload="auto" style="width:100%;background:#000;aspect-ratio:16/9"></video></figure>' +
      '<figure style="flex:0 1 360px;margin:0"><figcaption class="pr" style="font-size:0.8rem;opacity:0.8">reference</figcaption>' +
      '<video class="pair-ref" data-testid="pair-ref" muted playsinline preload="auto" style="width:100%;background:#000;aspect-ratio:16/9"></video></figure></div>';
    parentElement.appendChild(root);
    st.gd = root.querySelector(".mtb-warp-plot");
    st.send = (action) => {
      st.seq += 1;
      setTriggerValue("edit", {action, anchors: st.anchors, seq: st.seq});
    };
  }
  st.anchors = (data.anchors || []).map(a => [a[0], a[1]]);
  const frames = parentElement.querySelector(".mtb-warp-frames");
  st.vNew = frames.querySelector(".pair-new");
  st.vRef = frames.querySelector(".pair-ref");
  frames.style.display = data.new_url && data.ref_url ? "flex" : "none";
  if (data.new_url && st.vNew.dataset.src !== data.new_url) { st.vNew.src = data.new_url; st.vNew.dataset.src = data.new_url; }
  if (data.ref_url && st.vRef.dataset.src !== data.ref_url) { st.vRef.src = data.ref_url; st.vRef.dataset.src = data.ref_url; }
  loadPlotly().then((Plotly) => {
    const {traces, layout} = figure(data, st.anchors);
    Plotly.react(st.gd, traces, layout, {displaylogo: false, responsive: true,
                                           modeBarButtonsToRemove: ["select2d", "lasso2d"]});
    st.gd.dataset.rev = data.rev || "";
    if (!st.wired) wire(Plotly, st);
  }).catch((err) => { st.gd.textContent = String(err); });
}

function toData(st, ev) {
  const fl = st.gd._fullLayout;
  const box = st.gd.querySelector(".nsewdrag").getBoundingClientRect();
  const px = ev.clientX - box.left, py = ev.clientY - box.top;
  const inside = px >= 0 && py >= 0 && px <= box.width && py <= box.height;
  return {x: fl.xaxis.p2d(px), y: fl.yaxis.p2d(py), px, py, inside};
}

function nearest(st, p) {
  const fl = st.gd._fullLayout;
  let best = -1, bestD = HIT_PX;
  st.anchors.forEach((a, i) => {
    const d = Math.hypot(fl.xaxis.d2p(a[0]) - p.px, fl.yaxis.d2p(a[1]) - p.py);
    if (d <= bestD) { best = i; bestD = d; }
  });
  return best;
}

function showPair(st, x, y) {
  if (!st.vNew.src || !Number.isFinite(x) || !Number.isFinite(y)) return;
  st.vNew.currentTime = Math.max(0, x);
  st.vRef.currentTime = Math.max(0, y);
  st.vNew.parentElement.querySelector(".pn").textContent = `new run ${x.toFixed(2)} s`;
  st.vRef.parentElement.querySelector(".pr").textContent = `reference ${y.toFixed(2)} s`;
  st.shownPair = [x, y];
}

function wire(Plotly, st) {
  st.wired = true;
  const gd = st.gd;
  gd.on("plotly_hover", (ev) => {
    const pt = ev && ev.points && ev.points[0];
    if (pt && !st.drag) showPair(st, Number(pt.x), Number(pt.y));
  });
  gd.addEventListener("contextmenu", (ev) => {
    const p = toData(st, ev);
    const i = p.inside ? nearest(st, p) : -1;
    if (i >= 0) { ev.preventDefault(); st.anchors.splice(i, 1); st.send("delete"); }
  }, true);
  gd.addEventListener("mousedown", (ev) => {
    if (ev.button !== 0) return;
    const p = toData(st, ev);
    if (!p.inside) return;
    const i = nearest(st, p);
    ev.preventDefault(); ev.stopPropagation();
    if (i >= 0 && ev.shiftKey) { st.anchors.splice(i, 1); st.send("delete"); return; }
    st.drag = {i, moved: false, start: p};
  }, true);
  window.addEventListener("mousemove", (ev) => {
    if (!st.drag || st.drag.i < 0) return;
    const p = toData(st, ev);
    st.drag.moved = true;
    st.anchors[st.drag.i] = [p.x, p.y];
    Plotly.restyle(gd, {x: [st.anchors.map(a => a[0])], y: [st.anchors.map(a => a[1])]}, [2]);
  });
  window.addEventListener("mouseup", (ev) => {
    const drag = st.drag;
    st.drag = null;
    if (!drag) return;
    if (drag.i >= 0) { if (drag.moved) st.send("move"); return; }
    const p = toData(st, ev);
    if (p.inside && Math.hypot(p.px - drag.start.px, p.py - drag.start.py) < 5) {
      st.anchors.push([p.x, p.y]);
      st.send("add");
    }
  });
}
