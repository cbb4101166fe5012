// platewatch console: the live lanes, the MANUAL queue and search (docs/console.md).
// Plain DOM; every text from the server goes through textContent, never HTML.
"use strict";

const $ = (id) => document.getElementById(id);

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

function fmtTime(t) {
  if (!t) return "";
  const d = new Date(t);
  return isNaN(d) ? t : d.toLocaleString();
}

function pct(c) { return Math.round((c || 0) * 100) + "%"; }

// ---- login page ----

function setupLogin() {
  const form = $("login");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = new URLSearchParams(new FormData(form));
    const r = await fetch("/login", { method: "POST", body, credentials: "same-origin" });
    if (r.redirected || r.ok) { location.href = "/"; return; }
    let msg = "login refused";
    try { msg = (await r.json()).error; } catch (e) { /* not JSON */ }
    const p = $("login-error");
    p.textContent = msg;
    p.hidden = false;
  });
}

// ---- console ----

let session = null;
const seen = new Map();   // vehicle -> card element in the live view

async function api(path) {
  const r = await fetch(path, { credentials: "same-origin" });
  if (r.status === 401) { location.href = "/login"; throw new Error("logged out"); }
  if (!r.ok) throw new Error((await r.json()).error || r.statusText);
  return r.json();
}

async function post(path, fields) {
  const body = new URLSearchParams(fields);
  body.set("csrf", session.csrf);
  const r = await fetch(path, { method: "POST", body, credentials: "same-origin" });
  const j = await r.json().catch(() => ({ error: r.statusText }));
  if (!r.ok) throw new Error(j.error || r.statusText);
  return j;
}

function cropImage(d, hasCrop) {
  if (!hasCrop) return el("div", "nocrop", "no crop");
  const img = el("img");
  img.alt = "plate crop " + d.read.plate;
  img.src = "/api/crop?event=" + encodeURIComponent(d.event_id);
  img.addEventListener("error", () => img.replaceWith(el("div", "nocrop", "no crop")));
  return img;
}

function readBlock(d) {
  const box = el("div");
  box.appendChild(el("div", "plate", d.read.plate || "(unreadable)"));
  box.appendChild(el("div", "meta", pct(d.read.confidence) + " · " + (d.read.country || "") +
                     " · " + d.camera + " · " + fmtTime(d.read.first_seen)));
  const alts = (d.read.alternatives || []).map((a) => a.text + " " + pct(a.confidence));
  if (alts.length) box.appendChild(el("div", "alts", "or " + alts.join(", ")));
  return box;
}

function evidence(d) {
  const e = el("div", "evidence");
  const decl = d.declaration;
  if (decl) {
    e.textContent = decl.reference + " · " + decl.vehicle_plate +
      (decl.trailer_plate ? " / " + decl.trailer_plate : "") +
      " · distance " + decl.distance + " via " + decl.via +
      " · window " + fmtTime(decl.window_start) + " – " + fmtTime(decl.window_end);
  } else {
    e.textContent = (d.candidates || []).length + " candidate(s)";
  }
  return e;
}

function decisionCard(d, hasCrop, review) {
  const card = el("div", "card");
  card.dataset.vehicle = d.vehicle;
  card.dataset.eventId = d.event_id;
  card.appendChild(cropImage(d, hasCrop));
  const body = el("div");
  body.appendChild(readBlock(d));
  const line = el("div");
  line.appendChild(el("span", "badge " + d.decision, d.decision));
  line.appendChild(document.createTextNode(" " + d.reason + " · " + d.event_kind + " · " +
                                           fmtTime(d.decided_at)));
  body.appendChild(line);
  body.appendChild(evidence(d));
  const r = review || (d.officer ? d : null);
  if (r && r.officer) {
    body.appendChild(el("div", "review", "officer " + r.officer.id + ": " + r.decision +
      " (" + r.officer.reason + ")" +
      (r.officer.corrected_plate ? ", plate is " + r.officer.corrected_plate : "") +
      " at " + fmtTime(r.officer.at)));
  }
  card.appendChild(body);
  return card;
}

function laneColumn(d) {
  const key = d.site + "/" + d.lane;
  let col = document.querySelector('.lane[data-key="' + CSS.escape(key) + '"]');
  if (!col) {
    col = el("div", "lane");
    col.dataset.key = key;
    col.appendChild(el("h2", null, "Lane " + d.lane + " · " + d.site));
    col.appendChild(el("div", "cards"));
    $("lanes").appendChild(col);
  }
  return col.querySelector(".cards");
}

// A vehicle's new and final decisions and an officer's resolution replace one card.
function showLive(d, hasCrop, review, atTop) {
  const old = seen.get(d.vehicle);
  const keepCrop = old ? old.querySelector("img") !== null : false;
  const card = decisionCard(d, hasCrop || keepCrop, review);
  if (old) old.replaceWith(card);
  else if (atTop) laneColumn(d).prepend(card);
  else laneColumn(d).appendChild(card);
  seen.set(d.vehicle, card);
}

function candidateBox(c, i, name) {
  const box = el("div", "cand" + (c.excluded || c.used_by ? " excluded" : ""));
  const label = el("label");
  const radio = el("input");
  radio.type = "radio";
  radio.name = name;
  radio.value = c.reference;
  radio.disabled = !!(c.excluded || c.used_by);
  if (i === 0 && !radio.disabled) radio.checked = true;
  label.appendChild(radio);
  label.appendChild(el("span", "plate", " " + c.vehicle_plate));
  box.appendChild(label);
  if (c.trailer_plate) box.appendChild(el("div", "meta", "trailer " + c.trailer_plate));
  box.appendChild(el("div", "meta", c.reference));
  box.appendChild(el("div", "meta", "distance " + c.distance + " via " + c.via + " (" +
                     c.matched_plate + ")"));
  box.appendChild(el("div", "meta", fmtTime(c.window_start) + " – " + fmtTime(c.window_end)));
  if (c.excluded) box.appendChild(el("div", "error", "excluded: " + c.excluded));
  if (c.used_by) box.appendChild(el("div", "error", "used by " + c.used_by));
  return box;
}

function manualItem(row) {
  const d = row.decision;
  const item = el("div", "manual-item");
  item.dataset.vehicle = d.vehicle;
  item.dataset.eventId = d.event_id;
  const top = el("div", "card");
  top.appendChild(cropImage(d, row.crop));
  top.appendChild(readBlock(d));
  item.appendChild(top);
  item.appendChild(el("div", "meta", "lane " + d.lane + " · " + d.reason + " · " +
                      fmtTime(d.decided_at)));
  const name = "cand-" + d.event_id;
  const cands = el("div", "cands");
  (d.candidates || []).forEach((c, i) => cands.appendChild(candidateBox(c, i, name)));
  if (!(d.candidates || []).length) cands.appendChild(el("div", "meta", "no candidate"));
  item.appendChild(cands);
  const actions = el("div", "actions");
  const reason = el("input");
  reason.type = "text";
  reason.placeholder = "reason (required)";
  reason.className = "reason";
  const plate = el("input");
  plate.type = "text";
  plate.placeholder = "plate is actually ...";
  plate.className = "corrected";
  const release = el("button", "release", "RELEASE");
  const hold = el("button", "hold", "HOLD");
  const result = el("span", "result");
  actions.append(reason, plate, release, hold, result);
  item.appendChild(actions);
  const act = async (action) => {
    const chosen = item.querySelector('input[name="' + name + '"]:checked');
    const fields = { event: d.event_id, action, reason: reason.value, plate: plate.value };
    // A corrected plate is matched again by the server; a chosen candidate stands otherwise.
    if (action === "RELEASE" && chosen && !plate.value) fields.reference = chosen.value;
    try {
      const r = await post("/api/resolve", fields);
      result.textContent = r.decision.decision + " recorded" + (r.duplicate ? " (again)" : "");
      result.classList.remove("error");
      release.disabled = hold.disabled = true;
      setTimeout(loadManual, 1500);
    } catch (e) {
      result.textContent = e.message;
      result.classList.add("error");
    }
  };
  release.addEventListener("click", () => act("RELEASE"));
  hold.addEventListener("click", () => act("HOLD"));
  return item;
}

async function loadManual() {
  const j = await api("/api/manual");
  const list = $("manual-list");
  const open = new Set(j.rows.map((r) => r.decision.vehicle));
  // Keeps items an officer is typing into; adds the new ones, drops the resolved.
  for (const it of Array.from(list.children))
    if (!open.has(it.dataset.vehicle)) it.remove();
  const shown = new Set(Array.from(list.children).map((it) => it.dataset.vehicle));
  for (const r of j.rows)
    if (!shown.has(r.decision.vehicle)) list.appendChild(manualItem(r));
  $("manual-count").textContent = j.rows.length;
  $("manual-empty").hidden = j.rows.length > 0;
}

function localToRfc3339(v) { return v ? new Date(v).toISOString() : ""; }

async function search(ev) {
  if (ev) ev.preventDefault();
  const q = new URLSearchParams();
  const plate = $("search-plate").value.trim();
  if (plate) q.set("plate", plate);
  if ($("search-from").value) q.set("from", localToRfc3339($("search-from").value));
  if ($("search-until").value) q.set("until", localToRfc3339($("search-until").value));
  q.set("limit", "200");
  const tbody = $("search-results").querySelector("tbody");
  tbody.replaceChildren();
  const dtbody = $("search-decls").querySelector("tbody");
  dtbody.replaceChildren();
  try {
    const j = await api("/api/search?" + q);
    for (const r of j.rows) {
      const d = r.decision, rv = r.review;
      const tr = el("tr");
      const cells = [fmtTime(d.decided_at), d.lane, d.read.plate,
        r.distance === undefined ? "" : r.distance, d.decision, d.reason,
        d.declaration ? d.declaration.reference : "",
        rv ? rv.officer.id + ": " + rv.decision + " (" + rv.officer.reason + ")" : ""];
      cells.forEach((c) => tr.appendChild(el("td", null, c)));
      tbody.appendChild(tr);
    }
    if (plate) {
      const dj = await api("/api/declarations?plate=" + encodeURIComponent(plate));
      for (const d of dj.declarations) {
        const tr = el("tr");
        [d.reference, d.vehicle_plate, d.trailer_plate, d.lane || "any",
         fmtTime(d.window_start) + " – " + fmtTime(d.window_end), d.status, d.used_by]
          .forEach((c) => tr.appendChild(el("td", null, c)));
        dtbody.appendChild(tr);
      }
    }
  } catch (e) {
    const tr = el("tr");
    tr.appendChild(el("td", "error", e.message));
    tbody.appendChild(tr);
  }
}

function showTab(name) {
  for (const b of document.querySelectorAll(".tab"))
    b.classList.toggle("active", b.dataset.tab === name);
  for (const p of document.querySelectorAll(".panel")) p.hidden = p.id !== name;
  if (name === "manual") loadManual();
}

function connectStream() {
  const es = new EventSource("/api/events");
  es.onopen = () => { $("stream-state").textContent = "live"; };
  es.onerror = () => { $("stream-state").textContent = "reconnecting"; };
  es.addEventListener("decision", (ev) => {
    const d = JSON.parse(ev.data);
    // The crop was stored with the gate's decision before it was sent.
    showLive(d, !d.officer, null, true);
    loadManual();
  });
}

async function setupConsole() {
  session = await api("/api/session");
  $("who").textContent = session.user + " (" + session.role + ")";
  for (const i of document.querySelectorAll("input.csrf")) i.value = session.csrf;
  for (const b of document.querySelectorAll(".tab"))
    b.addEventListener("click", () => showTab(b.dataset.tab));
  $("search-form").addEventListener("submit", search);
  const recent = await api("/api/recent?limit=50");
  for (const r of recent.rows) showLive(r.decision, r.crop, r.review, false);
  connectStream();
  loadManual();
}

if (document.body.classList.contains("login")) setupLogin();
else setupConsole();
