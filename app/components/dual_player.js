// Dual player: ONE scrub control drives two <video> elements. The new run leads; the reference
// follows through the warp samples (seek on scrub; playbackRate steered continuously while playing).
// State "t" (new-run seconds) is sent when a scrub ends, playback pauses, and every 2 s of play.
// window.__mtbScrub records, per scrub step, ms from the input event until both videos showed
// the frame (requestVideoFrameCallback, falling back to 'seeked').
// Unlink: the reference gets its own scrub control; "Pin as anchor" sends the trigger "pin"
// {t_new, t_ref, seq}; when the refitted warp comes back the player relinks, and
// window.__mtbPin records ms from the click until the new warp was drawn.

const REPORT_EVERY_MS = 2000;

function interp(xs, ys, x) {
  const n = xs.length;
  if (!n || x < xs[0] || x > xs[n - 1]) return NaN;
  let lo = 0, hi = n - 1;
  while (hi - lo > 1) { const m = (lo + hi) >> 1; if (xs[m] <= x) lo = m; else hi = m; }
  const f = xs[hi] === xs[lo] ? 0 : (x - xs[lo]) / (xs[hi] - xs[lo]);
  return ys[lo] + f * (ys[hi] - ys[lo]);
}

function finite(x) { return typeof x === "number" && Number.isFinite(x); }  // isFinite(null) is true

function fmt(t) {
  if (!finite(t)) return "—";
  const m = Math.floor(t / 60), s = t - 60 * m;
  return m + ":" + s.toFixed(2).padStart(5, "0");
}

function frameShown(v) {
  return new Promise((resolve) => {
    let done = false;
    const finish = () => { if (!done) { done = true; resolve(performance.now()); } };
    if (v.requestVideoFrameCallback) v.requestVideoFrameCallback(finish);
    v.addEventListener("seeked", () => setTimeout(finish, 50), {once: true});
  });
}

function build(parentElement) {
  const root = document.createElement("div");
  root.className = "mtb-dual";
  root.tabIndex = 0;
  root.innerHTML = `
    <div class="mtb-videos">
      <figure><figcaption>New run <span class="tn"></span></figcaption>
        <video class="v-new" data-testid="video-new" muted playsinline preload="auto"></video></figure>
      <figure><figcaption>Reference <span class="tr"></span></figcaption>
        <video class="v-ref" data-testid="video-ref" muted playsinline preload="auto"></video>
        <div class="outside">outside the overlap</div></figure>
    </div>
    <div class="mtb-ticks" data-testid="ticks"></div>
    <input class="scrub" data-testid="scrub" type="range" min="0" step="0.001" value="0">
    <div class="mtb-refbar" data-testid="ref-bar">
      <span class="lbl">Reference, unlinked</span>
      <input class="scrub-ref" data-testid="scrub-ref" type="range" min="0" step="0.001" value="0">
      <button class="ref-back">−1 frame</button><button class="ref-fwd">+1 frame</button>
      <button class="pin" data-testid="pin">Pin as anchor</button></div>
    <div class="mtb-controls"><button class="back">−1 frame</button>
      <button class="play" data-testid="play">▶ play</button><button class="fwd">+1 frame</button>
      <button class="unlink" data-testid="unlink">Unlink reference</button>
      <span class="status">player keys (click the player first): space play/pause · ←/→ one frame · shift ←/→ one second</span></div>`;
  parentElement.appendChild(root);
  return root;
}

export default function (component) {
  const {data, parentElement, setStateValue, setTriggerValue} = component;
  let st = parentElement.__mtbDual;
  if (!st) {
    const root = build(parentElement);
    st = parentElement.__mtbDual = {root, seekSeq: -1,
      vNew: root.querySelector(".v-new"), vRef: root.querySelector(".v-ref"),
      scrub: root.querySelector(".scrub"), playing: false};
    st.setStateValue = setStateValue;
    st.setTriggerValue = setTriggerValue;
    wire(st, setStateValue);
  }
  const newWarp = st.data && st.data.anchor_rev !== data.anchor_rev;
  st.data = data;
  if (st.vNew.dataset.src !== data.new_url) { st.vNew.src = data.new_url; st.vNew.dataset.src = data.new_url; }
  if (st.vRef.dataset.src !== data.ref_url) { st.vRef.src = data.ref_url; st.vRef.dataset.src = data.ref_url; }
  st.scrub.max = String(data.duration_new || 1);
  st.scrubRef.max = String(data.duration_ref || 1);
  drawTicks(st);
  if (newWarp && st.pinT0 !== undefined) {  // the refitted warp is here: relink, record the time
    const t0 = st.pinT0;
    st.pinT0 = undefined;
    setLinked(st, true);
    seekBoth(st, st.vNew.currentTime);
    requestAnimationFrame(() => {
      const rec = (window.__mtbPin = window.__mtbPin || []);
      rec.push(performance.now() - t0);
    });
  }
  if (data.seek && data.seek.seq !== st.seekSeq) {
    st.seekSeq = data.seek.seq;
    seekBoth(st, data.seek.t);
  }
}

function setLinked(st, linked) {
  st.linked = linked;
  st.root.classList.toggle("unlinked", !linked);
  st.root.querySelector(".unlink").textContent = linked ? "Unlink reference" : "Relink";
  if (!linked) st.scrubRef.value = String(st.vRef.currentTime);
}

function seekRef(st, t) {
  const d = st.data.duration_ref || 0;
  t = Math.max(0, Math.min(d, t));
  st.scrubRef.value = String(t);
  st.vRef.currentTime = t;
  st.root.querySelector(".outside").style.display = "none";
  st.root.querySelector(".tr").textContent = fmt(t) + " (unlinked)";
}

function drawTicks(st) {
  const box = st.root.querySelector(".mtb-ticks");
  const dur = st.data.duration_new || 1;
  box.innerHTML = "";
  for (const [a, b] of st.data.low_bands || []) {  // where the warp itself is doubtful
    const el = document.createElement("div");
    el.className = "lowband";
    el.style.left = (100 * a / dur) + "%";
    el.style.width = Math.max(0.3, 100 * (b - a) / dur) + "%";
    el.title = `low confidence ${fmt(a)} – ${fmt(b)}`;
    box.appendChild(el);
  }
  for (const m of st.data.markers || []) {
    if (!finite(m.t_new)) continue;  // outside the overlap: no tick (not one at 0:00)
    const el = document.createElement("div");
    el.className = "tick" + (m.needs_review ? " review" : "") + (m.selected ? " selected" : "");
    el.style.left = (100 * m.t_new / dur) + "%";
    el.style.background = `hsl(${Math.round(120 * m.confidence)}, 80%, 50%)`;
    el.title = `${m.name} (${m.confidence.toFixed(2)})`;
    el.dataset.name = m.name;
    const lab = document.createElement("span");
    lab.className = "ticklabel";
    lab.textContent = m.name;
    el.appendChild(lab);
    box.appendChild(el);
  }
}

function seekBoth(st, t) {
  if (!st.linked) { seekNewOnly(st, t); return; }
  const tRef = interp(st.data.warp_new, st.data.warp_ref, t);
  const t0 = performance.now();
  st.scrub.value = String(t);
  st.vNew.currentTime = t;
  const waits = [frameShown(st.vNew)];
  const outside = !finite(tRef);
  st.root.querySelector(".outside").style.display = outside ? "flex" : "none";
  if (!outside) { st.vRef.currentTime = tRef; waits.push(frameShown(st.vRef)); }
  st.root.querySelector(".tn").textContent = fmt(t);
  st.root.querySelector(".tr").textContent = fmt(tRef);
  const rec = (window.__mtbScrub = window.__mtbScrub || []);
  Promise.all(waits).then((ts) => rec.push(Math.max(...ts) - t0));
}

function seekNewOnly(st, t) {
  st.scrub.value = String(t);
  st.vNew.currentTime = t;
  st.root.querySelector(".tn").textContent = fmt(t);
}

function follow(st) {
  if (!st.playing) return;
  const t = st.vNew.currentTime, d = st.data;
  const target = interp(d.warp_new, d.warp_ref, t);
  st.scrub.value = String(t);
  st.root.querySelector(".tn").textContent = fmt(t);
  if (st.linked) st.root.querySelector(".tr").textContent = fmt(target);
  const now = performance.now();
  if (!st.lastReport || now - st.lastReport > REPORT_EVERY_MS) {  // keep the marker list current
    st.lastReport = now;
    st.setStateValue("t", t);
  }
  if (!st.linked) { /* the reference stays where the editor put it */ }
  else if (finite(target)) {
    const err = st.vRef.currentTime - target;
    const ahead = interp(d.warp_new, d.warp_ref, t + 0.15), behind = interp(d.warp_new, d.warp_ref, t - 0.15);
    const slope = isFinite(ahead) && isFinite(behind) ? (ahead - behind) / 0.3 : 1;
    if (Math.abs(err) > 0.3) st.vRef.currentTime = target;
    const rate = slope - 4 * err;  // proportional steering: ~0.25 s time constant
    if (rate < 0.07) { if (!st.vRef.paused) st.vRef.pause(); }
    else {
      st.vRef.playbackRate = Math.min(4, Math.max(0.07, rate));
      if (st.vRef.paused) st.vRef.play().catch(() => {});
    }
    st.lastErr = err;
  } else if (!st.vRef.paused) st.vRef.pause();
  requestAnimationFrame(() => follow(st));
}

function wire(st, setStateValue) {
  const status = st.root.querySelector(".status");
  st.scrubRef = st.root.querySelector(".scrub-ref");
  st.linked = true;
  st.scrub.addEventListener("input", () => seekBoth(st, parseFloat(st.scrub.value)));
  st.scrubRef.addEventListener("input", () => seekRef(st, parseFloat(st.scrubRef.value)));
  const refFrame = () => 1 / (st.data.fps_ref || st.data.fps || 30);
  st.root.querySelector(".ref-back").addEventListener("click", () => seekRef(st, st.vRef.currentTime - refFrame()));
  st.root.querySelector(".ref-fwd").addEventListener("click", () => seekRef(st, st.vRef.currentTime + refFrame()));
  st.root.querySelector(".unlink").addEventListener("click", () => {
    if (st.playing) btn.click();
    setLinked(st, !st.linked);
    if (st.linked) seekBoth(st, st.vNew.currentTime);
  });
  st.root.querySelector(".pin").addEventListener("click", () => {
    st.pinT0 = performance.now();
    st.pinSeq = (st.pinSeq || 0) + 1;
    st.setTriggerValue("pin", {t_new: st.vNew.currentTime, t_ref: st.vRef.currentTime, seq: st.pinSeq});
  });
  st.scrub.addEventListener("change", () => setStateValue("t", parseFloat(st.scrub.value)));
  const btn = st.root.querySelector(".play");
  btn.addEventListener("click", () => {
    if (st.playing) {
      st.playing = false; st.vNew.pause(); st.vRef.pause();
      btn.textContent = "▶ play";
      setStateValue("t", st.vNew.currentTime);
      status.textContent = isFinite(st.lastErr) ? `last sync error ${(1000 * st.lastErr).toFixed(0)} ms` : "";
    } else {
      st.playing = true; btn.textContent = "⏸ pause";
      st.vNew.play().then(() => follow(st)).catch((e) => { status.textContent = String(e); });
    }
  });
  st.vNew.addEventListener("ended", () => { if (st.playing) btn.click(); });
  const step = (ds) => {
    if (st.playing) btn.click();
    const t = Math.max(0, Math.min(st.data.duration_new || 0, st.vNew.currentTime + ds));
    seekBoth(st, t);
    setStateValue("t", t);
  };
  const frame = () => 1 / (st.data.fps || 30);
  st.root.querySelector(".back").addEventListener("click", () => step(-frame()));
  st.root.querySelector(".fwd").addEventListener("click", () => step(frame()));
  st.root.addEventListener("keydown", (ev) => {
    if (ev.target.tagName === "INPUT" && ev.key === " ") return;
    if (ev.key === " ") { ev.preventDefault(); btn.click(); }
    else if (ev.key === "ArrowLeft" || ev.key === "ArrowRight") {
      ev.preventDefault();
      const sign = ev.key === "ArrowLeft" ? -1 : 1;
      step(sign * (ev.shiftKey ? 1 : frame()));
    }
  });
}
