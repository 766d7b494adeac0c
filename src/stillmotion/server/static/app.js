/* stillmotion studio: plain JavaScript, no build step, no dependencies.
 *
 * Talks to the job API of `stillmotion serve`:
 *   GET  /v1/options                 the settings' types, defaults, ranges and choices, the presets, the engines
 *                                    (the page keeps no copy of them: the form is filled from this answer)
 *   POST /v1/analyze                 photo analysis + prompt coaching
 *   POST /v1/jobs                    submit (multipart, Idempotency-Key)
 *   GET  /v1/jobs?limit&cursor       queue / history
 *   GET  /v1/jobs/{id}/events        progress (SSE), polling GET /v1/jobs/{id} as the fallback
 *   POST /v1/jobs/{id}/ticket        with a key: a 60 s ticket for the events URL (EventSource sends no header)
 *   POST /v1/jobs/{id}/cancel
 *   GET  /v1/jobs/{id}/video|preview clips and their frames
 *   GET  /v1/recipes                 the server owner's saved recipes (admin callers; the picker stays hidden on 403)
 *   GET  /v1/recipes/{name}          a recipe's settings for a new photo, and a notice naming what was dropped
 *   POST /v1/recipes                 {name, job_id[, replace]}: "Save as recipe" on a gallery card
 * With an access key (`stillmotion keys add`, or the server's token), every call carries
 * `Authorization: Bearer <key>`; the key field appears when the API answers 401, and the key
 * is kept in sessionStorage (this tab only, gone when it closes), never in a URL.
 */
(() => {
  "use strict";

  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

  const TOKEN_KEY = "stillmotion.token";
  const FORM_KEY = "stillmotion.form";
  const TERMINAL = new Set(["succeeded", "failed", "canceled"]);
  const ACTIVE = new Set(["queued", "running"]);
  const STATUS_WORDS = {
    queued: "Queued", running: "Rendering", succeeded: "Done", failed: "Failed", canceled: "Canceled",
  };

  const state = {
    token: sessionStorage.getItem(TOKEN_KEY) || "",
    photo: null,          // File
    photoUrl: null,       // object URL of the photo
    report: null,         // last /v1/analyze answer
    analyzeSeq: 0,
    coachSeq: 0,
    engines: [],
    fields: new Map(),    // name -> field of GET /v1/options (type, default, minimum, maximum, enum, labels, step, unit)
    presets: {},          // name -> { label, aspect, duration, loop } from GET /v1/options
    jobs: new Map(),      // id -> job
    rows: new Map(),      // id -> <li>
    cards: new Map(),     // id -> <article>
    jobPhotos: new Map(), // id -> object URL of the photo it was made from (this session)
    watchers: new Map(),  // id -> { close() }
    media: new Map(),     // url -> object URL (token mode)
    nextCursor: null,
    compare: [],          // ids of clips ticked for comparison
    tokenAsked: false,
    recipes: null,        // names of the saved recipes; null while this caller may not use them
  };

  const el = {};

  // ------------------------------------------------------------------ utils

  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  function errorText(body) {
    if (!body) return "";
    if (typeof body === "string") return body;
    const d = body.detail;
    if (typeof d === "string") return d;
    if (Array.isArray(d)) {
      return d.map((x) => (x.loc ? `${x.loc[x.loc.length - 1]}: ` : "") + (x.msg || JSON.stringify(x))).join("; ");
    }
    if (d && typeof d === "object") return d.message || JSON.stringify(d);
    if (body.error) return typeof body.error === "string" ? body.error : (body.error.message || JSON.stringify(body.error));
    return body.message || "";
  }

  async function api(path, { method = "GET", body, headers = {}, raw = false } = {}) {
    const h = new Headers(headers);
    if (state.token) h.set("Authorization", `Bearer ${state.token}`);
    let res;
    try {
      res = await fetch(path, { method, body, headers: h });
    } catch (err) {
      setServer("error", "server unreachable");
      throw new ApiError(0, "The server cannot be reached. Is `stillmotion serve` running?");
    }
    if (res.status === 401) {
      askToken();
      throw new ApiError(401, "This server needs your access key: paste it in the field at the top.");
    }
    if (!res.ok) {
      let msg = `${res.status} ${res.statusText}`;
      try { msg = errorText(await res.json()) || msg; } catch (_) { /* not JSON */ }
      throw new ApiError(res.status, msg);
    }
    if (raw) return res;
    if (res.status === 204) return null;
    return res.json();
  }

  function debounce(fn, ms) {
    let t;
    return (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };
  }

  function h(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (k in node && typeof v !== "string") node[k] = v;
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function toast(message, kind = "info", ms = 4500) {
    const t = h("div", { class: "toast", "data-kind": kind, text: message });
    el.toasts.append(t);
    while (el.toasts.children.length > 3) el.toasts.firstElementChild.remove();
    setTimeout(() => t.remove(), ms);
  }

  function fmtSeconds(s) {
    if (s === null || s === undefined || !isFinite(s)) return "";
    s = Math.max(0, Math.round(s));
    if (s < 60) return `${s} s`;
    const m = Math.floor(s / 60);
    return `${m} min ${String(s % 60).padStart(2, "0")} s`;
  }

  function toMs(t) {
    if (t === null || t === undefined || t === "") return NaN;
    if (typeof t === "number") return t < 1e12 ? t * 1000 : t;
    const n = Number(t);
    if (!Number.isNaN(n)) return n < 1e12 ? n * 1000 : n;
    return Date.parse(t);
  }

  function ago(t) {
    const ms = toMs(t);
    if (Number.isNaN(ms)) return "";
    const s = (Date.now() - ms) / 1000;
    if (s < 45) return "just now";
    if (s < 3600) return `${Math.round(s / 60)} min ago`;
    if (s < 86400) return `${Math.round(s / 3600)} h ago`;
    return new Date(ms).toLocaleDateString();
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  }

  // Media (video, preview) with a token cannot go in a plain src: fetch it with the header.
  async function mediaUrl(url) {
    if (!url) return "";
    if (!state.token) return url;
    if (state.media.has(url)) return state.media.get(url);
    const res = await api(url, { raw: true });
    const obj = URL.createObjectURL(await res.blob());
    state.media.set(url, obj);
    return obj;
  }

  // ----------------------------------------------------------- server / token

  function setServer(kind, text) {
    el.serverStatus.dataset.state = kind;
    if (text) el.serverStatus.textContent = text;
  }

  function askToken() {
    setServer("auth", "access key needed");
    el.tokenForm.hidden = false;
    if (!state.tokenAsked) {
      state.tokenAsked = true;
      el.tokenInput.focus();
      toast("This server is protected: paste your access key at the top right.", "error", 7000);
    }
  }

  function onTokenSubmit(ev) {
    ev.preventDefault();
    state.token = el.tokenInput.value.trim();
    if (state.token) sessionStorage.setItem(TOKEN_KEY, state.token);
    else sessionStorage.removeItem(TOKEN_KEY);
    el.tokenInput.value = "";
    el.tokenForm.hidden = true;
    state.tokenAsked = false;
    start();
  }

  // ------------------------------------------------------------------ engines

  // ------------------------------------------------------------------ options

  // The settings form from GET /v1/options: ranges, steps, defaults, choices and presets come from the server.
  async function loadOptions() {
    const options = await api("/v1/options");
    const first = !state.fields.size;  // built once: a later call (after the token) keeps what the user set
    state.fields = new Map((options.fields || []).map((f) => [f.name, f]));
    state.presets = options.presets || {};
    if (first) {
      for (const f of state.fields.values()) buildControl(f);
      fillPresets();
    }
    showEngines(options.engines || []);
    showMotion();
  }

  function buildControl(f) {
    if (f.name === "preset") return;  // the presets have their own picker (fillPresets)
    const group = $(`[data-choices="${f.name}"]`);
    if (group && f.enum) {  // segmented radio buttons
      group.textContent = "";
      for (const v of f.enum) {
        const id = `${f.name.slice(0, 3)}-${v}`;
        group.append(h("input", { type: "radio", name: f.name, id, value: v, checked: v === f.default }),
          h("label", { for: id, text: (f.labels && f.labels[v]) || v }));
      }
      return;
    }
    const c = el.form.querySelector(`[name="${f.name}"]`);
    if (!c) return;
    if (c.tagName === "SELECT" && f.enum) {
      c.textContent = "";
      for (const v of f.enum) c.append(h("option", { value: v, text: (f.labels && f.labels[v]) || v }));
    }
    if (c.type === "number" || c.type === "range") {
      if (f.minimum !== null) c.min = String(f.minimum);
      if (f.maximum !== null) c.max = String(f.maximum);
      if (f.step !== null) c.step = String(f.step);
    }
    if (f.description && !c.title) c.title = f.description;
    const unit = $(`[data-unit="${f.name}"]`);
    if (unit) unit.textContent = f.unit || "";
    setControl(f.name, f.default);
  }

  function fillPresets() {
    const custom = el.preset.querySelector("option[value='']");
    el.preset.textContent = "";
    if (custom) el.preset.append(custom);
    for (const [name, p] of Object.entries(state.presets)) {
      const label = [p.label || name, p.aspect, p.duration !== undefined ? `${p.duration} s` : "", p.loop ? "loop" : ""];
      el.preset.append(h("option", { value: name, text: label.filter(Boolean).join(" · ") }));
    }
  }

  function defaultOf(name) {
    const f = state.fields.get(name);
    return f ? f.default : undefined;
  }

  // A setting's control: the form element named `name` (radio buttons: the checked one).
  function controlValue(name) {
    const radios = $$(`input[type=radio][name="${name}"]`, el.form);
    if (radios.length) { const r = radios.find((x) => x.checked); return r ? r.value : ""; }
    const c = el.form.querySelector(`[name="${name}"]`);
    if (!c) return "";
    if (c.type === "checkbox") return c.checked ? "true" : "false";
    return c.value.trim();
  }

  function setControl(name, value) {
    if (value === undefined) return;
    const text = value === null ? "" : String(value);
    const radios = $$(`input[type=radio][name="${name}"]`, el.form);
    if (radios.length) { const r = radios.find((x) => x.value === text); if (r) r.checked = true; return; }
    const c = el.form.querySelector(`[name="${name}"]`);
    if (!c) return;
    if (c.type === "checkbox") c.checked = value === true || value === "true";
    else if (c.tagName === "SELECT") { if ($$("option", c).some((o) => o.value === text)) c.value = text; }
    else c.value = (c.type === "number" || c.type === "range") && text !== "" ? String(Number(text)) : text;
  }

  // The settings the form holds: every field of /v1/options that has a control here.
  function formFields() {
    return Array.from(state.fields.values()).filter((f) => el.form.querySelector(`[name="${f.name}"]`));
  }

  function labelOf(name) {
    const label = $(`label[for="${name}"]`) || $(`#${name}-group legend`);
    const first = label && label.firstChild;
    return (first && first.textContent.trim()) || name;
  }

  function showEngines(engines) {
    state.engines = Array.isArray(engines) ? engines : [];
    const previous = el.engine.value;
    el.engine.textContent = "";
    const ready = state.engines.filter((e) => e.ready);
    const blocked = state.engines.filter((e) => !e.ready);
    for (const e of [...ready, ...blocked]) {
      const kind = e.runs_on === "hosted" ? " · hosted (uploads the photo)"
        : (e.family && e.family !== e.name ? ` · ${e.family}` : " · built in");
      const label = e.ready ? `${e.name}${kind}` : `${e.name} — ${(e.availability && e.availability.label) || "unavailable"}`;
      el.engine.append(h("option", {
        value: e.name, text: label, disabled: !e.ready, title: e.ready ? (e.summary || "") : (e.reason || "not available"),
      }));
    }
    const keep = ready.find((e) => e.name === previous) || ready.find((e) => e.name === defaultOf("engine")) || ready[0];
    if (keep) el.engine.value = keep.name;
    el.unavailList.textContent = "";
    for (const e of blocked) {
      el.unavailList.append(h("li", {}, h("code", { text: e.name }), ": ", e.reason || "not available"));
    }
    el.unavailable.hidden = blocked.length === 0;
    showEngineInfo();
    fillRefine(ready);
    setServer("ok", `connected · ${ready.length} engine${ready.length === 1 ? "" : "s"} ready`);
  }

  // "Refine with": the ready engines whose capabilities say they refine a living draft.
  function fillRefine(ready) {
    const previous = el.refine.value;
    const none = el.refine.querySelector("option[value='']");
    el.refine.textContent = "";
    if (none) el.refine.append(none);
    for (const e of ready.filter((x) => x.capabilities && x.capabilities.refine)) {
      el.refine.append(h("option", { value: e.name, text: e.name, title: e.summary || "" }));
    }
    if ($$("option", el.refine).some((o) => o.value === previous)) el.refine.value = previous;
    showRefine();
  }

  // Shown only when it applies: the living engine drafts, and some engine here can refine.
  function showRefine() {
    const can = el.refine.options.length > 1 && el.engine.value === "living";
    el.refineField.hidden = !can;
    if (!can) el.refine.value = "";
    el.refineStrength.hidden = !el.refine.value;
    el.refineOut.textContent = Number(el.refineInput.value).toFixed(2);
  }

  function showEngineInfo() {
    const e = state.engines.find((x) => x.name === el.engine.value);
    el.engineInfo.textContent = "";
    if (!e) return;
    el.engineInfo.append(e.summary || "");
    if (e.capabilities && e.capabilities.end_frame) el.engineInfo.append(" Takes an end frame.");
    if (e.runs_on === "hosted") el.engineInfo.append(" Runs on the provider's servers: the photo is uploaded there, and the job is billed to the server's account.");
    if (e.licence) el.engineInfo.append(" ", h("span", { class: "licence", text: `Licence: ${e.licence}` }));
  }

  // -------------------------------------------------------------------- photo

  function setPhoto(file, label) {
    if (!file) return;
    if (file.type && !file.type.startsWith("image/")) {
      toast(`“${file.name}” is not an image: use a JPEG, PNG, WebP or TIFF photo.`, "error");
      return;
    }
    state.photo = file;
    if (state.photoUrl) URL.revokeObjectURL(state.photoUrl);
    state.photoUrl = URL.createObjectURL(file);
    el.photoImg.src = state.photoUrl;
    el.photoName.textContent = label || file.name || "photo";
    el.photoName.title = el.photoName.textContent;
    el.dropzone.dataset.empty = "false";
    el.photoInput.tabIndex = -1;  // the drop zone's label is gone: "Change photo" is the keyboard way now
    el.photoPreview.hidden = false;
    updateGenerate();
    runAnalysis();
  }

  function wireDropzone() {
    el.photoInput.addEventListener("change", () => {
      const f = el.photoInput.files && el.photoInput.files[0];
      if (f) setPhoto(f);
      el.photoInput.value = "";
    });
    el.photoChange.addEventListener("click", () => el.photoInput.click());
    const zone = $(".panel-photo");
    let depth = 0;
    zone.addEventListener("dragenter", (ev) => { ev.preventDefault(); depth++; el.dropzone.classList.add("dragover"); });
    zone.addEventListener("dragover", (ev) => { ev.preventDefault(); ev.dataTransfer.dropEffect = "copy"; });
    zone.addEventListener("dragleave", () => { if (--depth <= 0) { depth = 0; el.dropzone.classList.remove("dragover"); } });
    zone.addEventListener("drop", (ev) => {
      ev.preventDefault(); depth = 0; el.dropzone.classList.remove("dragover");
      const f = ev.dataTransfer.files && ev.dataTransfer.files[0];
      if (f) setPhoto(f);
    });
    // A photo dropped anywhere else should not navigate away from the studio.
    window.addEventListener("dragover", (ev) => ev.preventDefault());
    window.addEventListener("drop", (ev) => {
      ev.preventDefault();
      const f = ev.dataTransfer && ev.dataTransfer.files && ev.dataTransfer.files[0];
      if (f) setPhoto(f);
    });
    document.addEventListener("paste", (ev) => {
      const items = ev.clipboardData ? Array.from(ev.clipboardData.files || []) : [];
      const img = items.find((f) => f.type.startsWith("image/"));
      if (img) { ev.preventDefault(); setPhoto(img, img.name || "pasted image"); }
    });
  }

  // ----------------------------------------------------------------- analysis

  async function runAnalysis() {
    if (!state.photo) return;
    const seq = ++state.analyzeSeq;
    state.coachSeq++;  // this answer also carries the coaching
    el.analysis.textContent = "";
    el.analysis.append(h("p", { class: "analysis-loading" }, h("span", { class: "spinner" }), "Checking the photo…"));
    const fd = new FormData();
    fd.append("image", state.photo, state.photo.name || "photo.png");
    const prompt = el.prompt.value.trim();
    if (prompt) fd.append("prompt", prompt);
    if (el.engine.value) fd.append("engine", el.engine.value);  // coach for the chosen engine's controls
    if (prompt) setCoachBusy();
    try {
      const report = await api("/v1/analyze", { method: "POST", body: fd });
      if (seq !== state.analyzeSeq) return;
      state.report = report;
      renderAnalysis(report);
      if (report.prompt) renderCoach(report.prompt);
      else if (!prompt) resetCoach();
    } catch (err) {
      if (seq !== state.analyzeSeq) return;
      el.analysis.textContent = "";
      el.analysis.append(h("div", { class: "check", "data-level": "unusable" },
        h("span", {}, h("b", { text: "Cannot read this photo. " }), err.message)));
    }
  }

  function renderAnalysis(r) {
    const box = el.analysis;
    box.textContent = "";
    box.dataset.kind = r.kind || "";
    box.append(h("div", { class: "verdict" },
      h("span", { class: "grade", "data-grade": r.expected || "", text: `Expected: ${r.expected || "?"}` }),
      h("span", { class: "kind-badge" }, "Kind: ", h("b", { text: r.kind || "general" })),
      r.kind_reason ? h("p", { class: "verdict-reason", text: r.kind_reason }) : null,
    ));

    const facts = [];
    if (r.width && r.height) facts.push(`${r.width}×${r.height} px`);
    facts.push(r.faces ? `${r.faces} face${r.faces > 1 ? "s" : ""}` : "no faces");
    facts.push(r.elements && r.elements.length ? `can move: ${r.elements.join(", ")}` : "no moving elements found");
    if (r.duration_s) facts.push(`best length ≤ ${r.duration_s} s`);
    box.append(h("div", { class: "facts" }, facts.map((f) => h("span", { class: "fact", text: f }))));

    const checks = Array.isArray(r.checks) ? r.checks : [];
    const issues = checks.filter((c) => c.level !== "ok");
    const passed = checks.filter((c) => c.level === "ok");
    const checkItem = (c) => h("li", { class: "check", "data-level": c.level },
      h("span", {}, h("b", { text: `${c.name}: ` }), c.message || ""));

    if (r.usable === false) {
      box.append(h("p", { class: "check", "data-level": "unusable" },
        h("span", {}, h("b", { text: "Not usable as it is. " }), "Fix the problems below or try another photo.")));
    }
    if (issues.length) {
      box.append(h("h3", { text: `Warnings & advice (${issues.length})` }));
      box.append(h("ul", { class: "checks" }, issues.map(checkItem)));
    }
    const recs = Array.isArray(r.recommendations) ? r.recommendations : [];
    if (recs.length) {
      box.append(h("h3", { text: "Recommended prompts · click to use" }));
      box.append(h("div", { class: "recs" }, recs.map((p) => h("button", {
        type: "button", class: "rec", text: p, title: "Use this prompt",
        onclick: () => setPrompt(p),
      }))));
    }
    if (passed.length) {
      box.append(h("details", { class: "checks-ok" },
        h("summary", { text: `${passed.length} check${passed.length > 1 ? "s" : ""} passed` }),
        h("ul", { class: "checks" }, passed.map(checkItem))));
    }
    markSuggestedChips(r);
  }

  function markSuggestedChips(r) {
    const elements = new Set(r.elements || []);
    if (r.faces) elements.add("face");
    for (const chip of $$(".chip[data-element]")) {
      chip.classList.toggle("suggested", elements.has(chip.dataset.element));
      chip.title = chip.classList.contains("suggested") ? "Found in your photo" : "";
    }
  }

  // ------------------------------------------------------------ prompt coach

  function setPrompt(text, { focus = true } = {}) {
    el.prompt.value = text;
    el.prompt.dispatchEvent(new Event("input", { bubbles: true }));
    if (focus) el.prompt.focus();
  }

  function phraseRe(phrase) {
    const esc = phrase.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    return new RegExp(`(^|,\\s*)${esc}(?=\\s*(,|$))`, "i");
  }

  function addToPrompt(phrase) {
    const current = el.prompt.value.trim();
    const re = phraseRe(phrase);
    let next;
    if (re.test(current)) {  // clicking a chip again takes it out
      next = current.replace(re, "").replace(/^\s*,\s*/, "").trim();
    } else {
      next = current ? `${current.replace(/[,\s]+$/, "")}, ${phrase}` : phrase;
    }
    setPrompt(next);
  }

  function syncChips() {
    const current = el.prompt.value.trim();
    for (const chip of $$(".chip[data-add]")) {
      chip.setAttribute("aria-pressed", phraseRe(chip.dataset.add).test(current) ? "true" : "false");
    }
  }

  function resetCoach(message = "Prompt coaching appears here as you type.") {
    el.coach.dataset.state = "idle";
    el.coachScore.textContent = "–";
    el.coach.style.setProperty("--score", 0);
    el.coachMessage.textContent = message;
    el.coachRewrite.hidden = true;
  }

  function setCoachBusy() {
    el.coach.dataset.state = "busy";
    el.coachMessage.textContent = "Reading your prompt…";
  }

  function renderCoach(p) {
    const score = Math.max(0, Math.min(100, Number(p.score) || 0));
    el.coachScore.textContent = String(score);
    el.coach.style.setProperty("--score", score);
    el.coach.style.setProperty("--score-color", score >= 80 ? "var(--ok)" : score >= 50 ? "var(--warn)" : "var(--bad)");
    const lints = Array.isArray(p.lints) ? p.lints : [];
    const first = lints.find((l) => l.level === "warning") || lints.find((l) => l.level && l.level !== "ok");
    if (first) {
      el.coach.dataset.state = first.level === "warning" ? "warning" : "advice";
      el.coachMessage.textContent = `Score ${score}/100 · ${first.message}`;
    } else {
      el.coach.dataset.state = "ok";
      el.coachMessage.textContent = `Score ${score}/100 · clear prompt: every part of it maps to a motion.`;
    }
    const rewrite = (p.rewrite && p.rewrite !== el.prompt.value.trim()) ? p.rewrite : (first && first.suggestion) || "";
    el.coachRewriteText.textContent = rewrite;
    el.coachRewrite.hidden = !rewrite || rewrite === el.prompt.value.trim();
  }

  const coachSoon = debounce(async () => {
    const prompt = el.prompt.value.trim();
    if (!prompt) { resetCoach(); return; }
    if (!state.photo) { resetCoach("Upload a photo to get coaching on this prompt."); return; }
    const seq = ++state.coachSeq;
    setCoachBusy();
    const fd = new FormData();
    fd.append("image", state.photo, state.photo.name || "photo.png");
    fd.append("prompt", prompt);
    if (el.engine.value) fd.append("engine", el.engine.value);
    try {
      const report = await api("/v1/analyze", { method: "POST", body: fd });
      if (seq !== state.coachSeq) return;
      if (report.prompt) renderCoach(report.prompt);
      else resetCoach();
    } catch (err) {
      if (seq !== state.coachSeq) return;
      resetCoach(`Coaching unavailable: ${err.message}`);
    }
  }, 550);

  // --------------------------------------------------------------------- form

  function readForm() {
    const f = {};
    for (const field of formFields()) f[field.name] = controlValue(field.name);
    return f;
  }

  function fillForm(f, { includeSeed = true } = {}) {
    if (!f) return;
    for (const field of formFields()) {
      const v = f[field.name];
      if (field.name === "seed" && !includeSeed) continue;
      if (field.name === "prompt") { if (v !== undefined && v !== null) setPrompt(String(v), { focus: false }); continue; }
      if (field.name === "engine") {
        if (v && (state.engines.some((e) => e.name === v && e.ready) || !state.engines.length)) el.engine.value = v;
        continue;
      }
      if (field.name === "preset") { el.preset.value = v && state.presets[v] ? v : ""; continue; }
      if (field.name === "seed") { setControl("seed", v === undefined ? null : v); continue; }
      if (v !== undefined && v !== null && v !== "") setControl(field.name, v);
    }
    showMotion();
    showEngineInfo();
    showRefine();
  }

  function saveForm() {
    const f = readForm();
    delete f.seed;
    try { localStorage.setItem(FORM_KEY, JSON.stringify(f)); } catch (_) { /* private mode */ }
  }

  function restoreForm() {
    try {
      const f = JSON.parse(localStorage.getItem(FORM_KEY) || "null");
      if (f) fillForm(f, { includeSeed: false });
    } catch (_) { /* ignore */ }
  }

  function showMotion() {
    el.motionOut.textContent = Number(el.motion.value).toFixed(2);
  }

  // What a preset sets (all but its label).
  function presetValues(name) {
    const p = state.presets[name];
    if (!p) return null;
    return Object.fromEntries(Object.entries(p).filter(([k]) => k !== "label"));
  }

  function applyPreset() {
    const p = presetValues(el.preset.value);
    if (!p) return;
    for (const [k, v] of Object.entries(p)) setControl(k, v);
  }

  // Changing a setting a preset holds turns the preset back to "Custom".
  function presetStillHolds() {
    const p = presetValues(el.preset.value);
    return !p || Object.entries(p).every(([k, v]) => controlValue(k) === String(v));
  }

  function updateGenerate() {
    el.generate.disabled = !state.photo || state.submitting;
    el.generateHint.textContent = state.photo
      ? "Runs in the background: you can queue several. Ctrl+Enter also generates."
      : "Upload a photo to start.";
  }

  async function submitJob(ev) {
    if (ev) ev.preventDefault();
    if (!state.photo) { toast("Upload a photo first.", "error"); el.photoInput.focus(); return; }
    const f = readForm();
    for (const field of formFields()) {  // the server's ranges, checked before the upload
      const v = f[field.name];
      if (v === "" || (field.type !== "number" && field.type !== "integer")) continue;
      const n = Number(v);
      const whole = field.type !== "integer" || /^\d+$/.test(v);
      if (!whole || !(n >= field.minimum && n <= field.maximum)) {
        const unit = field.unit ? ` ${field.unit}` : "";
        toast(`${labelOf(field.name)}: use ${field.type === "integer" ? "a whole number" : "a value"} from ${field.minimum} to `
          + `${field.maximum}${unit}${field.nullable ? " (or leave it blank)" : ""}.`, "error");
        el.form.querySelector(`[name="${field.name}"]`).focus();
        return;
      }
    }
    const fd = new FormData();
    fd.append("image", state.photo, state.photo.name || "photo.png");
    for (const [k, v] of Object.entries(f)) if (v !== "") fd.append(k, v);
    state.submitting = true;
    updateGenerate();
    el.generate.textContent = "Submitting…";
    try {
      const job = await api("/v1/jobs", { method: "POST", body: fd, headers: { "Idempotency-Key": newKey() } });
      if (state.photoUrl) state.jobPhotos.set(job.id, URL.createObjectURL(state.photo));
      upsertJob(job);
      watch(job);
      saveForm();
    } catch (err) {
      toast(`Not queued: ${err.message}`, "error", 7000);
    } finally {
      state.submitting = false;
      el.generate.textContent = "Generate";
      updateGenerate();
    }
  }

  // --------------------------------------------------------------------- jobs

  async function loadJobs(more = false) {
    const q = new URLSearchParams({ limit: "20" });
    if (more && state.nextCursor) q.set("cursor", state.nextCursor);
    const data = await api(`/v1/jobs?${q}`);
    const jobs = Array.isArray(data) ? data : (data.jobs || []);
    for (const j of jobs) { upsertJob(j); watch(j); }
    state.nextCursor = data.next_cursor || null;
    el.jobsMore.hidden = !state.nextCursor;
  }

  function sortedIds() {
    return Array.from(state.jobs.values())
      .sort((a, b) => (toMs(b.created_at) || 0) - (toMs(a.created_at) || 0))
      .map((j) => j.id);
  }

  function upsertJob(job) {
    if (!job || !job.id) return;
    const old = state.jobs.get(job.id);
    state.jobs.set(job.id, job);
    let row = state.rows.get(job.id);
    if (!row) {
      row = buildRow(job);
      state.rows.set(job.id, row);
      placeInOrder(el.jobs, state.rows, job.id);
    }
    updateRow(row, job);
    if (job.status === "succeeded" && job.result && !state.cards.has(job.id)) {
      const card = buildCard(job, Boolean(old && old.status !== "succeeded"));
      state.cards.set(job.id, card);
      placeInOrder(el.gallery, state.cards, job.id);
    }
    if (old && old.status !== job.status) {
      if (job.status === "succeeded") toast("Clip ready: it is playing in the gallery.", "ok");
      else if (job.status === "failed") toast(`A job failed: ${job.error || "unknown error"}`, "error", 7000);
    }
    updateCounts();
  }

  function placeInOrder(container, map, id) {
    const ids = sortedIds().filter((x) => map.has(x));
    const i = ids.indexOf(id);
    const next = ids.slice(i + 1).map((x) => map.get(x)).find((n) => n && n.parentNode === container);
    container.insertBefore(map.get(id), next || null);
  }

  function buildRow(job) {
    const li = h("li", { class: "job", "data-job-id": job.id });
    li.innerHTML = `
      <img class="job-thumb" alt="">
      <div class="job-main">
        <p class="job-prompt"></p>
        <div class="job-meta"><span class="status"></span><span class="job-detail"></span><span class="job-when"></span></div>
        <div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100"><div class="progress-bar"></div></div>
        <p class="job-error" hidden></p>
      </div>
      <div class="job-actions"></div>`;
    return li;
  }

  function updateRow(li, job) {
    li.dataset.status = job.status;
    const req = job.request || {};
    const recipe = (job.result && job.result.recipe) || {};
    const prompt = req.prompt || recipe.prompt || "";
    const p = $(".job-prompt", li);
    p.textContent = prompt || "(no prompt: the engine picks a gentle move)";
    p.classList.toggle("empty", !prompt);
    p.title = prompt;

    const thumb = $(".job-thumb", li);
    // The preview is the input photo until the clip has a frame; refresh it once it is final.
    const base = (job.result && job.result.preview) || `/v1/jobs/${encodeURIComponent(job.id)}/preview`;
    const want = `${base}${base.includes("?") ? "&" : "?"}v=${TERMINAL.has(job.status) ? "final" : "input"}`;
    if (thumb.dataset.src !== want) {
      thumb.dataset.src = want;
      if (!thumb.src && state.jobPhotos.has(job.id)) thumb.src = state.jobPhotos.get(job.id);
      mediaUrl(want).then((u) => { thumb.src = u; }).catch(() => {});
      thumb.onerror = () => { thumb.removeAttribute("src"); };
    }

    const status = $(".status", li);
    status.dataset.status = job.status;
    status.textContent = STATUS_WORDS[job.status] || job.status;

    const pct = Math.round(Math.max(0, Math.min(1, Number(job.progress) || 0)) * 100);
    const bar = $(".progress", li);
    $(".progress-bar", li).style.width = `${job.status === "succeeded" ? 100 : pct}%`;
    bar.setAttribute("aria-valuenow", String(job.status === "succeeded" ? 100 : pct));
    bar.setAttribute("aria-label", `Progress of job ${job.id}`);
    bar.hidden = !ACTIVE.has(job.status);

    let detail = "";
    if (job.status === "running") {
      detail = `${pct}%`;
      if (job.eta_s !== null && job.eta_s !== undefined && isFinite(job.eta_s)) detail += ` · ~${fmtSeconds(job.eta_s)} left`;
    } else if (job.status === "queued") {
      detail = "waiting for a worker";
    } else if (job.status === "succeeded") {
      const took = (toMs(job.finished_at) - toMs(job.started_at)) / 1000;
      const out = recipe.output || {};
      const bits = [];
      if (out.width && out.height) bits.push(`${out.width}×${out.height}`);
      if (out.duration_s) bits.push(`${Number(out.duration_s).toFixed(1)} s`);
      if (isFinite(took) && took >= 0) bits.push(`made in ${fmtSeconds(took)}`);
      detail = bits.join(" · ");
    }
    if (job.attempts > 1) detail += `${detail ? " · " : ""}attempt ${job.attempts}`;
    $(".job-detail", li).textContent = detail;
    $(".job-when", li).textContent = ago(job.created_at);

    const err = $(".job-error", li);
    err.hidden = job.status !== "failed";
    err.textContent = job.status === "failed" ? (job.error || "failed") : "";

    const actions = $(".job-actions", li);
    const key = `${job.status}`;
    if (actions.dataset.key !== key) {
      actions.dataset.key = key;
      actions.textContent = "";
      if (ACTIVE.has(job.status)) {
        actions.append(h("button", {
          type: "button", class: "btn btn-small btn-danger", text: "Cancel",
          "aria-label": `Cancel job ${prompt ? `“${prompt.slice(0, 40)}”` : job.id}`,
          onclick: (ev) => cancelJob(job.id, ev.currentTarget),
        }));
      } else if (job.status === "succeeded") {
        actions.append(h("button", {
          type: "button", class: "btn btn-small btn-ghost", text: "View",
          onclick: () => showCard(job.id),
        }));
      } else {
        actions.append(h("button", {
          type: "button", class: "btn btn-small btn-ghost", text: "Reuse settings",
          onclick: () => reuseSettings(job.id),
        }));
      }
    }
  }

  function updateCounts() {
    let running = 0, queued = 0;
    for (const j of state.jobs.values()) {
      if (j.status === "running") running++;
      else if (j.status === "queued") queued++;
    }
    const parts = [];
    if (running) parts.push(`${running} rendering`);
    if (queued) parts.push(`${queued} queued`);
    parts.push(`${state.jobs.size} total`);
    el.queueCount.textContent = parts.join(" · ");
    el.jobsEmpty.hidden = state.jobs.size > 0;
    el.galleryEmpty.hidden = state.cards.size > 0;
  }

  async function cancelJob(id, button) {
    if (button) button.disabled = true;
    try {
      const job = await api(`/v1/jobs/${encodeURIComponent(id)}/cancel`, { method: "POST" });
      if (job && job.id) upsertJob(job);
      toast("Canceled.", "info", 2000);
    } catch (err) {
      if (button) button.disabled = false;
      toast(`Could not cancel: ${err.message}`, "error");
    }
  }

  // Progress: server-sent events, polling as the fallback. EventSource cannot send an
  // Authorization header, so with a key the page first asks for a short-lived ticket for
  // this job's events (POST /v1/jobs/{id}/ticket): the key itself never goes in a URL.
  function watch(job) {
    if (!job || TERMINAL.has(job.status) || state.watchers.has(job.id)) return;
    const id = job.id;
    if (!("EventSource" in window)) { poll(id); return; }
    if (!state.token) { stream(id, `/v1/jobs/${encodeURIComponent(id)}/events`); return; }
    const pending = { closed: false, close: () => { pending.closed = true; state.watchers.delete(id); } };
    state.watchers.set(id, pending);
    api(`/v1/jobs/${encodeURIComponent(id)}/ticket`, { method: "POST" })
      .then((t) => { if (!pending.closed) { state.watchers.delete(id); stream(id, t.events); } })
      .catch(() => { if (!pending.closed) { state.watchers.delete(id); poll(id); } });
  }

  function stream(id, url) {
    const es = new EventSource(url);
    const onData = (ev) => {
      let j;
      try { j = JSON.parse(ev.data); } catch (_) { return; }
      if (j && j.job) j = j.job;
      if (!j || j.id !== id) return;
      upsertJob(j);
      if (TERMINAL.has(j.status)) { es.close(); state.watchers.delete(id); }
    };
    es.onmessage = onData;
    for (const name of ["job", "progress", "status", "update", "done"]) es.addEventListener(name, onData);
    es.onerror = () => {  // also a refused stream (429 over the key's stream limit): poll instead
      es.close();
      state.watchers.delete(id);
      const cur = state.jobs.get(id);
      if (cur && !TERMINAL.has(cur.status)) poll(id);
    };
    state.watchers.set(id, { close: () => es.close() });
  }

  function poll(id) {
    if (state.watchers.has(id)) return;
    let timer = null;
    let stopped = false;
    let failures = 0;
    const stop = () => { stopped = true; clearTimeout(timer); state.watchers.delete(id); };
    const tick = async () => {
      if (stopped) return;
      try {
        const j = await api(`/v1/jobs/${encodeURIComponent(id)}`);
        failures = 0;
        upsertJob(j);
        if (TERMINAL.has(j.status)) { stop(); return; }
      } catch (err) {
        if (err.status === 404 || err.status === 401 || ++failures > 30) { stop(); return; }
      }
      timer = setTimeout(tick, document.hidden ? 4000 : 1000);
    };
    state.watchers.set(id, { close: stop });
    timer = setTimeout(tick, 300);
  }

  // ------------------------------------------------------------------ gallery

  function recipeOf(job) {
    const req = job.request || {};
    const r = (job.result && job.result.recipe) || {};
    const rreq = r.request || {};
    const out = r.output || {};
    const pick = (k) => (req[k] !== undefined && req[k] !== null && req[k] !== "" ? req[k] : rreq[k]);
    const settings = Object.fromEntries(Array.from(state.fields.keys()).map((k) => [k, pick(k)]));
    return {
      ...settings,
      prompt: r.prompt !== undefined ? r.prompt : (req.prompt || ""),
      negative_prompt: r.negative_prompt !== undefined ? r.negative_prompt : (req.negative_prompt || ""),
      engine: r.engine || req.engine || defaultOf("engine"),
      seed: r.seed !== undefined && r.seed !== null ? r.seed : pick("seed"),
      size: out.width && out.height ? `${out.width}×${out.height}` : "",
      length: out.duration_s ? `${Number(out.duration_s).toFixed(1)} s` : (pick("duration") ? `${pick("duration")} s` : ""),
      evaluation: r.evaluation || null,
    };
  }

  function recipeList(rc, other) {
    const rows = ["engine", "seed", "size", "length", "motion", "loop", "score", "camera"].map((k) => [k, recipeList.value(rc, k)]);
    if (other) rows.push(["prompt", rc.prompt || "(none)"], ["negative", rc.negative_prompt || "(none)"]);
    return h("dl", { class: "recipe" }, rows.filter(([, v]) => v !== "" && v !== undefined && v !== null).map(([k, v]) => {
      const otherVal = other ? (k === "prompt" ? other.prompt || "(none)" : k === "negative" ? other.negative_prompt || "(none)"
        : recipeList.value(other, k)) : undefined;
      const diff = other && String(otherVal) !== String(v);
      return h("div", { class: diff ? "diff" : "" }, h("dt", { text: k }), h("dd", { text: String(v) }));
    }));
  }
  recipeList.value = (rc, k) => ({
    engine: rc.engine, seed: rc.seed, size: rc.size, length: rc.length,
    motion: rc.motion_strength !== undefined && rc.motion_strength !== null ? Number(rc.motion_strength).toFixed(2) : "",
    loop: rc.loop === true || rc.loop === "true" ? "yes" : "",
    // Measured quality (stillmotion.evaluate, added by the worker): 0–100, higher is better.
    score: rc.evaluation && typeof rc.evaluation.score === "number" ? String(Math.round(rc.evaluation.score * 100)) : "",
    camera: rc.evaluation && rc.evaluation.camera_move ? rc.evaluation.camera_move : "",
  })[k];

  function makeVideo(url, poster, { controls = false } = {}) {
    const v = document.createElement("video");
    v.muted = true;
    v.defaultMuted = true;
    v.loop = true;
    v.autoplay = true;
    v.playsInline = true;
    v.preload = "auto";
    v.controls = controls;
    v.setAttribute("muted", "");
    v.setAttribute("playsinline", "");
    mediaUrl(poster).then((u) => { if (u) v.poster = u; }).catch(() => {});
    mediaUrl(url).then((u) => { v.src = u; const p = v.play(); if (p && p.catch) p.catch(() => {}); }).catch(() => {});
    return v;
  }

  function buildCard(job, fresh) {
    const rc = recipeOf(job);
    const res = job.result || {};
    const card = h("article", { class: `card${fresh ? " fresh" : ""}`, "data-job-id": job.id, tabindex: "-1" });
    const video = makeVideo(res.video, res.preview);
    video.setAttribute("aria-label", `Clip: ${rc.prompt || "no prompt"}`);
    video.addEventListener("click", () => { if (video.paused) video.play(); else video.pause(); });
    const download = h("a", { class: "btn btn-small btn-ghost", href: res.video || "#", download: `stillmotion-${job.id}.mp4`, text: "Download" });
    if (state.token) {
      download.addEventListener("click", async (ev) => {
        if (download.dataset.ready) return;
        ev.preventDefault();
        download.href = await mediaUrl(res.video);
        download.dataset.ready = "1";
        download.click();
      });
    }
    const compare = h("input", { type: "checkbox", onchange: (ev) => toggleCompare(job.id, ev.currentTarget.checked) });
    card.append(
      video,
      h("div", { class: "card-body" },
        h("p", { class: `card-prompt${rc.prompt ? "" : " empty"}`, text: rc.prompt || "(no prompt)", title: rc.prompt || "" }),
        recipeList(rc),
        h("div", { class: "card-actions" },
          h("button", { type: "button", class: "btn btn-small", text: "Reuse settings", title: "Fill the form with this clip's prompt, engine, seed and settings", onclick: () => reuseSettings(job.id) }),
          h("button", { type: "button", class: "btn btn-small", text: "Use as start image", title: "Continue from this clip: its frame becomes the photo", onclick: (ev) => useAsStart(job.id, ev.currentTarget) }),
          h("button", { type: "button", class: "btn btn-small recipe-save-open", text: "Save as recipe", title: "Keep this clip's settings by name: the Recipe list by the prompt offers them", hidden: state.recipes === null, onclick: (ev) => openSaveRecipe(job.id, card, ev.currentTarget) }),
          download,
          h("label", { class: "compare-toggle" }, compare, "compare"),
        ),
      ),
    );
    return card;
  }

  function showCard(id) {
    const card = state.cards.get(id);
    if (!card) return;
    card.scrollIntoView({ behavior: "smooth", block: "center" });
    card.classList.remove("fresh");
    void card.offsetWidth;
    card.classList.add("fresh");
    card.focus({ preventScroll: true });
  }

  function reuseSettings(id) {
    const job = state.jobs.get(id);
    if (!job) return;
    const rc = recipeOf(job);
    fillForm(rc);
    saveForm();
    el.prompt.focus();
    el.prompt.scrollIntoView({ behavior: "smooth", block: "center" });
    toast(state.photo
      ? "Settings loaded: same photo + same seed makes the same clip."
      : "Settings loaded: now pick the photo.", "ok");
  }

  async function useAsStart(id, button) {
    const job = state.jobs.get(id);
    if (!job || !job.result || !job.result.preview) return;
    if (button) button.disabled = true;
    try {
      const res = await api(job.result.preview, { raw: true });
      const blob = await res.blob();
      const file = new File([blob], `clip-${id}-frame.png`, { type: blob.type || "image/png" });
      setPhoto(file, `frame of clip ${id}`);
      $(".panel-photo").scrollTop = 0;
      toast("The clip's frame is now the photo: write the next motion.", "ok");
    } catch (err) {
      toast(`Could not use the frame: ${err.message}`, "error");
    } finally {
      if (button) button.disabled = false;
    }
  }

  // ------------------------------------------------------------------ recipes

  // The picker by the prompt: filled from GET /v1/recipes, hidden when the caller may not see them (403).
  async function loadRecipes() {
    let rows;
    try {
      rows = await api("/v1/recipes");
    } catch (err) {
      if (err.status !== 403 && err.status !== 401) toast(`Recipes unavailable: ${err.message}`, "error");
      state.recipes = null;
      el.recipeField.hidden = true;
      return;
    }
    const chosen = el.recipe.value;
    state.recipes = rows.map((r) => r.name);
    const first = el.recipe.querySelector("option[value='']");
    el.recipe.textContent = "";
    el.recipe.append(first);
    for (const r of rows) {
      const prompt = r.prompt && r.prompt.length > 48 ? `${r.prompt.slice(0, 47)}…` : r.prompt;
      const label = [r.name, r.engine, prompt ? `“${prompt}”` : ""];
      el.recipe.append(h("option", { value: r.name, text: label.filter(Boolean).join(" · "), title: r.prompt || "" }));
    }
    el.recipe.value = state.recipes.includes(chosen) ? chosen : "";
    el.recipeField.hidden = false;
    for (const card of state.cards.values()) {
      const b = $(".recipe-save-open", card);
      if (b) b.hidden = false;
    }
  }

  // A saved recipe fills the form (not the photo, not the seed: a new photo draws its own).
  async function applyRecipe() {
    const name = el.recipe.value;
    showRecipeNotice("");
    if (!name) return;
    try {
      const r = await api(`/v1/recipes/${encodeURIComponent(name)}`);
      fillForm(r.settings || {}, { includeSeed: false });
      saveForm();
      if (r.notice) showRecipeNotice(`${r.notice}.`, "warning");
      else showRecipeNotice(`Loaded “${r.name}”: pick a photo and generate.`);
    } catch (err) {
      showRecipeNotice(`Could not load “${name}”: ${err.message}`, "warning");
    }
  }

  function showRecipeNotice(text, kind = "") {
    el.recipeNotice.textContent = text;
    el.recipeNotice.dataset.kind = kind;
    el.recipeNotice.hidden = !text;
  }

  // "Save as recipe" on a card: an inline name field, then POST /v1/recipes and a fresh picker.
  function openSaveRecipe(id, card, button) {
    let form = $(".recipe-save", card);
    if (!form) {
      const input = h("input", {
        type: "text", maxlength: "64", required: true, autocomplete: "off", spellcheck: "false",
        "aria-label": "Recipe name", placeholder: "recipe name", title: "1-64 letters, digits, '-', '_' or '.'",
      });
      form = h("form", { class: "recipe-save", "aria-label": "Save this clip's settings as a recipe" },
        input, h("button", { type: "submit", class: "btn btn-small", text: "Save" }));
      form.addEventListener("submit", (ev) => { ev.preventDefault(); saveRecipe(id, input.value.trim(), form); });
      form.addEventListener("keydown", (ev) => { if (ev.key === "Escape") { form.remove(); button.focus(); } });
      $(".card-actions", card).append(form);
    }
    $("input", form).focus();
  }

  async function saveRecipe(id, name, form, replace = false) {
    if (!name) { toast("Give the recipe a name.", "error"); return; }
    const submit = $("button[type=submit]", form);
    submit.disabled = true;
    try {
      const body = JSON.stringify({ name, job_id: id, ...(replace ? { replace: true } : {}) });
      await api("/v1/recipes", { method: "POST", body, headers: { "Content-Type": "application/json" } });
      form.remove();
      toast(`Saved as recipe “${name}”: pick it in the Recipe list by the prompt.`, "ok");
      await loadRecipes();
    } catch (err) {
      // The server's 409 for a name in use: ask, then send replace (a 409 for the job itself is only shown).
      if (err.status === 409 && !replace && state.recipes && state.recipes.includes(name)
          && window.confirm(`A recipe named “${name}” exists. Replace it?`)) {
        await saveRecipe(id, name, form, true);
        return;
      }
      toast(`Could not save the recipe: ${err.message}`, "error", 7000);
    } finally {
      submit.disabled = false;
    }
  }

  // ------------------------------------------------------------------ compare

  function toggleCompare(id, on) {
    state.compare = state.compare.filter((x) => x !== id);
    if (on) state.compare.push(id);
    while (state.compare.length > 2) {
      const drop = state.compare.shift();
      const card = state.cards.get(drop);
      if (card) $("input[type=checkbox]", card).checked = false;
    }
    for (const [cid, card] of state.cards) card.classList.toggle("selected", state.compare.includes(cid));
    el.compareOpen.textContent = `Compare ${state.compare.length}/2`;
    el.compareOpen.disabled = state.compare.length !== 2;
    if (state.compare.length === 2) el.compareOpen.title = "Open the two ticked clips side by side";
  }

  function openCompare() {
    if (state.compare.length !== 2) return;
    const [a, b] = state.compare.map((id) => state.jobs.get(id));
    if (!a || !b) return;
    const ra = recipeOf(a), rb = recipeOf(b);
    el.compareBody.textContent = "";
    for (const [job, rc, other] of [[a, ra, rb], [b, rb, ra]]) {
      const v = makeVideo(job.result.video, job.result.preview, { controls: true });
      el.compareBody.append(h("figure", {}, v, h("figcaption", {}, recipeList(rc, other))));
    }
    el.compareDialog.showModal();
    setTimeout(restartCompare, 300);
  }

  function restartCompare() {
    for (const v of $$("video", el.compareBody)) { v.currentTime = 0; const p = v.play(); if (p && p.catch) p.catch(() => {}); }
  }

  function closeCompare() {
    for (const v of $$("video", el.compareBody)) v.pause();
    el.compareDialog.close();
    el.compareBody.textContent = "";
  }

  // --------------------------------------------------------------------- init

  async function start() {
    setServer("", "connecting…");
    try {
      await loadOptions();
    } catch (err) {
      if (err.status !== 401) {
        setServer("error", "server error");
        toast(`Engines unavailable: ${err.message}`, "error", 7000);
      }
      return;
    }
    restoreForm();
    await loadRecipes();
    try { await loadJobs(); } catch (err) { if (err.status !== 401) toast(`History unavailable: ${err.message}`, "error"); }
    if (state.photo) runAnalysis();
  }

  function init() {
    try { localStorage.removeItem(TOKEN_KEY); } catch (_) { /* an older page kept the key for good: not any more */ }
    for (const [k, sel] of Object.entries({
      serverStatus: "#server-status", tokenForm: "#token-form", tokenInput: "#token-input",
      dropzone: "#dropzone", photoInput: "#photo-input", photoPreview: "#photo-preview", photoImg: "#photo-img",
      photoName: "#photo-name", photoChange: "#photo-change", analysis: "#analysis",
      form: "#job-form", prompt: "#prompt", negative: "#negative_prompt", engine: "#engine",
      engineInfo: "#engine-info", unavailable: "#engine-unavailable", unavailList: "#engine-unavailable-list",
      preset: "#preset", motion: "#motion_strength", motionOut: "#motion-out",
      refine: "#refine", refineField: "#refine-field", refineStrength: "#refine-strength-field",
      refineInput: "#refine_strength", refineOut: "#refine-out",
      seed: "#seed", seedDice: "#seed-dice", generate: "#generate", generateHint: "#generate-hint",
      coach: "#coach", coachScore: "#coach-score-num", coachMessage: "#coach-message", coachRewrite: "#coach-rewrite",
      coachRewriteText: "#coach-rewrite-text", coachUse: "#coach-use",
      recipeField: "#recipe-field", recipe: "#recipe", recipeNotice: "#recipe-notice",
      jobs: "#jobs", jobsEmpty: "#jobs-empty", jobsMore: "#jobs-more", queueCount: "#queue-count",
      gallery: "#gallery", galleryEmpty: "#gallery-empty", compareOpen: "#compare-open",
      compareDialog: "#compare-dialog", compareBody: "#compare-body", compareSync: "#compare-sync", compareClose: "#compare-close",
      toasts: "#toasts",
    })) el[k] = $(sel);

    wireDropzone();
    el.tokenForm.addEventListener("submit", onTokenSubmit);
    el.form.addEventListener("submit", submitJob);
    el.prompt.addEventListener("input", () => { syncChips(); coachSoon(); });
    el.prompt.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); submitJob(); }
    });
    for (const chip of $$(".chip[data-add]")) chip.addEventListener("click", () => addToPrompt(chip.dataset.add));
    el.coachUse.addEventListener("click", () => setPrompt(el.coachRewriteText.textContent));
    el.recipe.addEventListener("change", applyRecipe);
    el.form.addEventListener("change", (ev) => {  // every setting, including controls built from /v1/options
      if (ev.target === el.recipe) return;  // not a setting: it fills them (applyRecipe)
      const name = ev.target.name;
      if (name === "preset") applyPreset();
      else if (name === "engine") { showEngineInfo(); showRefine(); coachSoon(); }  // coaching depends on the engine
      else if (name === "refine") showRefine();
      else if (!presetStillHolds()) el.preset.value = "";
      if (name !== "prompt") saveForm();
    });
    el.motion.addEventListener("input", showMotion);
    el.refineInput.addEventListener("input", showRefine);
    el.seedDice.addEventListener("click", () => { el.seed.value = String(Math.floor(Math.random() * 2 ** 31)); });
    el.jobsMore.addEventListener("click", () => loadJobs(true).catch((err) => toast(err.message, "error")));
    el.compareOpen.addEventListener("click", openCompare);
    el.compareSync.addEventListener("click", restartCompare);
    el.compareClose.addEventListener("click", closeCompare);
    el.compareDialog.addEventListener("close", () => { for (const v of $$("video", el.compareBody)) v.pause(); });
    el.compareDialog.addEventListener("click", (ev) => { if (ev.target === el.compareDialog) closeCompare(); });
    setInterval(() => {  // keep "2 min ago" fresh
      for (const [id, row] of state.rows) {
        const j = state.jobs.get(id);
        if (j) $(".job-when", row).textContent = ago(j.created_at);
      }
    }, 30000);

    updateGenerate();  // the settings' values appear once GET /v1/options answers (start → loadOptions)
    updateCounts();
    start();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
