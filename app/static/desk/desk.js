/*
 * The editor's desk (/desk): a pasted report becomes timeline entries in a few clicks.
 *
 * No build step and no framework: this script, desk.css and the page that loads them. Everything
 * the desk does is a call of the public API that a user could make with curl (fetch with a Bearer
 * key), and every refusal is shown in words, the problem+json `detail`, in a role="alert" beside
 * what was refused.
 *
 * The key is kept in sessionStorage (this tab only), never in a URL or a cookie; fetch is told to
 * send no credentials of its own.
 *
 * Versions. Every write states the incident version this page last read (`expected_version`):
 * an accept, the version the report's proposals were matched against; a record tool, the version
 * of the record shown. When someone else appended meanwhile, the API refuses with 409 and writes
 * nothing; the desk shows what was appended since and offers to retry against the newer record.
 *
 * Paths are relative to the page (/desk), so the desk also works behind a proxy that serves the
 * service under a prefix.
 */
(function () {
  "use strict";

  const KEY_STORAGE = "timeline-desk-key";
  const INCIDENT_STORAGE = "timeline-desk-incident";
  const BASE = new URL(".", document.baseURI);
  const ACTIONS = {
    record: "Record a new assertion",
    corroborate: "Corroborate a recorded assertion",
    dispute: "Dispute a recorded assertion",
    refine: "Refine a recorded assertion's date",
  };
  const RELATIONS = { related: "is related to", part_of: "is part of", follows: "follows", response_to: "is a response to" };
  const REVISABLE = { occurred: "Date (EDTF)", headline: "Headline", text: "Text", kind: "Kind", attributed_to: "Speaker" };

  const state = {
    key: null,
    incidents: [], // as GET /v1/incidents lists them
    versions: new Map(), // incident id -> the stream version this page last read
    timelines: new Map(), // incident id -> its timeline, as last read
    incidentId: null,
    vocabulary: { kinds: [], ranks: ["preferred", "normal", "deprecated"], relations: Object.keys(RELATIONS) },
    article: null,
    cards: [], // one per proposal of the article shown
    search: "",
    acceptingAll: false,
  };

  // -- the page's elements ------------------------------------------------------------------

  const $ = (id) => document.getElementById(id);
  const slot = (name) => document.querySelector(`[data-slot="${name}"]`);
  let uidCounter = 0;
  const uid = (prefix) => `${prefix}-${++uidCounter}`;

  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    for (const [name, value] of Object.entries(props || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
      else if (name === "class") el.className = value;
      else if (["value", "checked", "selected", "disabled", "hidden", "required"].includes(name)) el[name] = value;
      else el.setAttribute(name, value === true ? "" : String(value));
    }
    appendAll(el, children);
    return el;
  }

  function appendAll(el, children) {
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : String(child));
    }
  }

  function clear(el) {
    while (el.firstChild) el.firstChild.remove();
  }

  function visuallyHidden(text) {
    return h("span", { class: "visually-hidden" }, text);
  }

  // A label, its control and an optional hint, tied together for assistive technology.
  function field(labelText, control, hintText) {
    control.id = control.id || uid("field");
    const parts = [h("label", { for: control.id }, labelText), control];
    if (hintText) {
      const hint = h("p", { class: "hint", id: uid("hint") }, hintText);
      control.setAttribute("aria-describedby", hint.id);
      parts.push(hint);
    }
    return h("div", { class: "field" }, parts);
  }

  function choice(name, options, chosen) {
    return h("select", { name },
      options.map(([value, label]) => h("option", { value, selected: value === chosen }, label)));
  }

  function textInput(name, value, props) {
    return h("input", { name, value: value || "", autocomplete: "off", ...props });
  }

  // A button that shows and hides a panel (aria-expanded), building the panel the first time.
  function disclosure(label, build, { className } = {}) {
    const panel = h("div", { class: "disclosure-panel", id: uid("panel"), hidden: true });
    const button = h("button", {
      type: "button", class: `disclosure ${className || ""}`, "aria-expanded": "false", "aria-controls": panel.id,
    }, label);
    let built = false;
    const control = {
      button, panel,
      open() {
        if (!built) { appendAll(panel, [build(control)]); built = true; }
        button.setAttribute("aria-expanded", "true");
        panel.hidden = false;
        focusFirstField(panel);
      },
      close({ focus = true } = {}) {
        button.setAttribute("aria-expanded", "false");
        panel.hidden = true;
        if (focus) button.focus();
      },
      get isOpen() { return button.getAttribute("aria-expanded") === "true"; },
    };
    button.addEventListener("click", () => (control.isOpen ? control.close() : control.open()));
    panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") { event.stopPropagation(); control.close(); }
    });
    return control;
  }

  function focusFirstField(container) {
    const first = container.querySelector("input, select, textarea");
    if (first) first.focus();
  }

  function humanKind(kind) {
    return (kind || "other").replace(/_/g, " ");
  }

  function incidentTitle(id) {
    const incident = state.incidents.find((i) => i.id === id);
    return (incident && incident.title) || id;
  }

  // -- talking to the API -------------------------------------------------------------------

  class Refusal extends Error {
    constructor(status, problem) {
      super(describeProblem(status, problem));
      this.status = status;
      this.problem = problem || {};
    }

    get isVersionConflict() {
      return this.status === 409 && String(this.problem.type || "").endsWith("/version-conflict");
    }
  }

  // The problem's own words. FastAPI's validation messages carry a "Value error, " prefix that
  // says nothing to an editor; it is left out.
  function describeProblem(status, problem) {
    const detail = problem && typeof problem.detail === "string" ? problem.detail.replace(/\bValue error, /g, "") : "";
    if (detail) return detail;
    if (problem && problem.title) return problem.title;
    return status ? `the service answered ${status}` : "the request failed";
  }

  function apiUrl(path, params) {
    const url = new URL(path, BASE);
    for (const [name, value] of Object.entries(params || {})) {
      if (value !== undefined && value !== null) url.searchParams.set(name, String(value));
    }
    return url;
  }

  // The JSON answer of an API call (with `withStatus`, `{status, body}`); a refusal is thrown as
  // a Refusal carrying the problem.
  async function call(method, path, { body, params, key = state.key, withStatus = false } = {}) {
    const headers = { Accept: "application/json, application/problem+json" };
    if (key) headers.Authorization = `Bearer ${key}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(apiUrl(path, params), {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-cache", credentials: "omit",
      });
    } catch (error) {
      throw new Refusal(0, { detail: `the service could not be reached (${error.message})` });
    }
    const payload = await readJson(response);
    if (!response.ok) throw new Refusal(response.status, payload);
    return withStatus ? { status: response.status, body: payload } : payload;
  }

  async function readJson(response) {
    try { return await response.json(); } catch (_) { return {}; }
  }

  const incidentPath = (id, rest = "") => `v1/incidents/${encodeURIComponent(id)}${rest}`;

  function noteVersion(incidentId, version) {
    if (incidentId && Number.isInteger(version)) state.versions.set(incidentId, version);
  }

  async function readTimeline(incidentId) {
    const timeline = await call("GET", incidentPath(incidentId, "/timeline"), {
      params: { include_retracted: "true", history: "true" },
    });
    state.timelines.set(incidentId, timeline);
    noteVersion(incidentId, timeline.version);
    return timeline;
  }

  function findEntry(assertionId, incidentId) {
    const inOrder = [state.timelines.get(incidentId), ...state.timelines.values()];
    for (const timeline of inOrder) {
      const entry = timeline && timeline.entries.find((e) => e.assertion_id === assertionId);
      if (entry) return entry;
    }
    return null;
  }

  // The events of one append, read back from the stream: what the record now holds.
  async function appendedEvents(incidentId, version, count) {
    const page = await call("GET", incidentPath(incidentId, "/events"), {
      params: { after_version: version - count, limit: count },
    });
    return page.events;
  }

  function describeEvent(event) {
    const d = event.data || {};
    const name = (id) => {
      const entry = findEntry(id, event.incident_id);
      return entry ? `“${entry.headline}”` : id;
    };
    switch (event.type) {
      case "AssertionRecorded": return `recorded “${d.headline}” (${d.occurred}, ${humanKind(d.kind)}) as ${d.assertion_id}`;
      case "SourceAttached": return `attached ${d.source.outlet} as a source of ${name(d.assertion_id)}`;
      case "AssertionDisputed": return `${name(d.by_assertion_id)} disputes ${name(d.assertion_id)}`;
      case "AssertionRevised": return `revised ${name(d.assertion_id)}: ${Object.entries(d.changes || {}).map(([k, v]) => `${REVISABLE[k] || k} → ${v}`).join(", ")} (${d.reason})`;
      case "AssertionRanked": return `ranked ${name(d.assertion_id)} ${d.rank}${d.reason ? ` (${d.reason})` : ""}`;
      case "AssertionRetracted": return `retracted ${name(d.assertion_id)}: ${d.reason}`;
      case "IncidentsLinked": return `linked: this incident ${RELATIONS[d.relation] || d.relation} ${incidentTitle(d.related_incident_id)}`;
      case "IncidentOpened": return `opened “${d.title}”`;
      case "IncidentRevised": return `revised the incident (${Object.keys(d).join(", ")})`;
      default: return event.type;
    }
  }

  function eventLine(event) {
    const actor = event.metadata && event.metadata.actor;
    return h("li", {},
      h("span", { class: "event-type" }, event.type), " ",
      describeEvent(event),
      h("span", { class: "event-meta" }, ` · version ${event.version}, position ${event.position}${actor ? `, by ${actor}` : ""}`));
  }

  // The vocabularies (kinds, ranks, relations) are the API's own, read from its OpenAPI document;
  // without it the fields take free text and the API decides.
  async function loadVocabulary() {
    try {
      const response = await fetch(apiUrl("openapi.json"), { cache: "no-cache", credentials: "omit" });
      if (!response.ok) return;
      const schemas = (await response.json()).components.schemas;
      const kinds = schemas.AssertionRecorded.properties.kind.enum;
      if (Array.isArray(kinds)) state.vocabulary.kinds = kinds;
      const ranks = schemas.AssertionRanked.properties.rank.enum;
      if (Array.isArray(ranks)) state.vocabulary.ranks = ranks;
      const relations = schemas.IncidentsLinked.properties.relation.enum;
      if (Array.isArray(relations)) state.vocabulary.relations = relations;
    } catch (_) { /* free text it is */ }
  }

  function kindControl(name, chosen) {
    if (!state.vocabulary.kinds.length) return textInput(name, chosen);
    return choice(name, state.vocabulary.kinds.map((k) => [k, humanKind(k)]), chosen || "other");
  }

  // -- messages -----------------------------------------------------------------------------

  // A refusal, in words, where it happened. The alert is inserted (not a pre-existing region
  // filled in), which screen readers announce reliably.
  function showAlert(where, error, ...extra) {
    clearAlert(where);
    const message = error instanceof Error ? error.message : String(error);
    const problem = error instanceof Refusal ? error.problem : {};
    const heading = error instanceof Refusal && error.status
      ? `Refused (${error.status}${problem.title ? ` ${problem.title}` : ""}):` : "Not done:";
    const alert = h("div", { class: "alert", role: "alert" },
      h("p", {}, h("strong", {}, heading), " ", message), ...extra);
    where.append(alert);
    markInvalidFields(where.closest("form, article, section"), problem);
    return alert;
  }

  function clearAlert(where) {
    for (const alert of where.querySelectorAll(":scope > .alert")) alert.remove();
    const scope = where.closest("form, article, section");
    if (scope) for (const el of scope.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  }

  // A field the problem names (`occurred`, `published_at`, `events[0].data.reason`) is marked.
  function markInvalidFields(scope, problem) {
    if (!scope || !Array.isArray(problem.errors)) return;
    for (const error of problem.errors) {
      const name = String(error.field || "").split(".").pop().replace(/\[\d+\]$/, "");
      const control = name && scope.querySelector(`[name="${CSS.escape(name)}"]`);
      if (control) control.setAttribute("aria-invalid", "true");
    }
  }

  function announce(id, message) {
    $(id).textContent = message;
  }

  // A 409 on a stale expected_version: what was appended since this page read the incident, and
  // a button to retry against the newer record.
  async function explainConflict(where, error, incidentId, retry) {
    const { expected_version: seen, current_version: now } = error.problem;
    const since = h("ul", { class: "events" });
    const explanation = h("div", { class: "alert conflict", role: "alert" },
      h("p", {}, h("strong", {}, "Not appended: the record changed. "),
        `“${incidentTitle(incidentId)}” is at version ${now}, but this page last read version ${seen}: `,
        "someone else appended to it meanwhile, and nothing of yours was written. ",
        "Check what changed, then retry against the newer record."),
      since,
      h("div", { class: "actions" }, h("button", { type: "button", class: "primary", onclick: retry }, `Retry at version ${now}`)));
    clearAlert(where);
    where.append(explanation);
    try {
      const events = await appendedEvents(incidentId, now, Math.max(1, Math.min(now - seen, 50)));
      appendAll(since, events.map(eventLine));
    } catch (_) { /* the explanation stands without the list */ }
  }

  // -- the key ------------------------------------------------------------------------------

  function storedKey() {
    try { return sessionStorage.getItem(KEY_STORAGE); } catch (_) { return null; }
  }

  function keepKey(key) {
    try {
      if (key) sessionStorage.setItem(KEY_STORAGE, key);
      else sessionStorage.removeItem(KEY_STORAGE);
    } catch (_) { /* storage refused: the key lives in this page only */ }
  }

  async function useKey(event) {
    event.preventDefault();
    const input = $("api-key");
    const key = input.value.trim();
    clearAlert(slot("key"));
    if (!key) { showAlert(slot("key"), "type or paste an API key first"); input.focus(); return; }
    try {
      // Any request checks a key that is sent: an unknown or revoked one is refused at once.
      await call("GET", "v1/incidents", { key });
    } catch (error) {
      showAlert(slot("key"), error);
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return;
    }
    state.key = key;
    keepKey(key);
    input.value = "";
    showKeyState();
    await refreshIncidents();
  }

  function forgetKey() {
    state.key = null;
    keepKey(null);
    showKeyState();
    $("api-key").focus();
  }

  function showKeyState() {
    $("forget-key").hidden = !state.key;
    announce("key-status", state.key
      ? "A key is in use for this tab. Writes are made with it; a write it may not make is refused with the reason."
      : "No key yet: reading works if this service allows public reads; writing needs a key with the write scope.");
  }

  // -- incidents ----------------------------------------------------------------------------

  async function refreshIncidents(chosen) {
    clearAlert(slot("incident"));
    try {
      const body = await call("GET", "v1/incidents");
      state.incidents = body.incidents;
      for (const incident of body.incidents) noteVersion(incident.id, incident.version);
    } catch (error) {
      showAlert(slot("incident"), error);
      return;
    }
    renderIncidentPicker();
    const wanted = chosen || state.incidentId || storedIncident();
    const known = state.incidents.some((i) => i.id === wanted);
    await selectIncident(known ? wanted : null);
  }

  function renderIncidentPicker() {
    const picker = $("incident");
    clear(picker);
    picker.append(h("option", { value: "" }, state.incidents.length ? "Choose an incident…" : "No incidents yet: open one below"));
    for (const incident of state.incidents) {
      picker.append(h("option", { value: incident.id }, `${incident.title || incident.id} (${incident.id})`));
    }
    picker.value = state.incidentId || "";
  }

  function storedIncident() {
    try { return sessionStorage.getItem(INCIDENT_STORAGE); } catch (_) { return null; }
  }

  async function selectIncident(id) {
    state.incidentId = id || null;
    $("incident").value = state.incidentId || "";
    try {
      if (id) sessionStorage.setItem(INCIDENT_STORAGE, id);
      else sessionStorage.removeItem(INCIDENT_STORAGE);
    } catch (_) { /* not kept: nothing lost but the choice */ }
    showWidget();
    renderIncidentTools();
    await loadRecord();
  }

  function renderIncidentTools() {
    const tools = $("incident-tools");
    clear(tools);
    const opening = disclosure("Open a new incident", newIncidentForm);
    const parts = [opening.button, opening.panel];
    if (state.incidentId && state.incidents.length > 1) {
      const linking = disclosure("Link incidents", linkIncidentsForm);
      parts.push(linking.button, linking.panel);
    }
    appendAll(tools, parts);
  }

  function slugOf(title) {
    return title.toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 80);
  }

  function newIncidentForm(control) {
    const title = textInput("title", "", { required: true, maxlength: 300 });
    const summary = h("textarea", { name: "summary", rows: 3, maxlength: 10000 });
    const location = textInput("location", "", { maxlength: 300 });
    const id = textInput("id", "", { required: true, pattern: "[a-z0-9][a-z0-9\\-]{0,79}", spellcheck: "false" });
    let idEdited = false;
    title.addEventListener("input", () => { if (!idEdited) id.value = slugOf(title.value); });
    id.addEventListener("input", () => { idEdited = true; });
    const alerts = h("div", { class: "alert-slot" });
    const form = h("form", { class: "tool-form", novalidate: true, "aria-label": "Open a new incident" },
      field("Title", title),
      field("Summary", summary),
      field("Location", location, "A place name, e.g. Minneapolis, Minnesota"),
      field("Incident id", id, "Lower-case letters, digits and hyphens; made from the title unless you change it."),
      h("div", { class: "actions" },
        h("button", { type: "submit", class: "primary" }, "Open incident"),
        h("button", { type: "button", onclick: () => control.close() }, "Cancel")),
      alerts);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearAlert(alerts);
      const body = { id: id.value.trim(), title: title.value.trim() };
      if (summary.value.trim()) body.summary = summary.value.trim();
      if (location.value.trim()) body.location = { name: location.value.trim() };
      try {
        const opened = await call("POST", "v1/incidents", { body });
        noteVersion(opened.id, opened.version);
      } catch (error) {
        showAlert(alerts, error);
        return;
      }
      announce("incident-status", `Opened “${body.title}” (${body.id}).`);
      await refreshIncidents(body.id);
      $("incident").focus();
    });
    return form;
  }

  function linkIncidentsForm(control) {
    const others = state.incidents.filter((i) => i.id !== state.incidentId);
    const related = choice("related_incident_id", others.map((i) => [i.id, `${i.title || i.id} (${i.id})`]));
    const relation = choice("relation", state.vocabulary.relations.map((r) => [r, RELATIONS[r] || r]), "related");
    const alerts = h("div", { class: "alert-slot" });
    const form = h("form", { class: "tool-form", novalidate: true, "aria-label": "Link incidents" },
      h("p", { class: "hint" }, `“${incidentTitle(state.incidentId)}”…`),
      field("Relation", relation),
      field("Linked incident", related),
      h("div", { class: "actions" },
        h("button", { type: "submit", class: "primary" }, "Link"),
        h("button", { type: "button", onclick: () => control.close() }, "Cancel")),
      alerts);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const data = { related_incident_id: related.value, relation: relation.value };
      appendToRecord({ type: "IncidentsLinked", data }, {
        alerts, done: `Linked: ${RELATIONS[data.relation] || data.relation} “${incidentTitle(data.related_incident_id)}”.`,
        statusId: "incident-status",
      });
    });
    return form;
  }

  // -- the widget beside the work -----------------------------------------------------------

  function showWidget() {
    const frame = $("widget-frame"), link = $("widget-link"), note = $("widget-note");
    const id = state.incidentId;
    frame.hidden = link.hidden = !id;
    note.hidden = Boolean(id);
    if (!id) return;
    // The widget follows the incident's event stream itself: what the desk appends shows up in
    // it without a reload.
    const src = apiUrl(`widget/incidents/${encodeURIComponent(id)}`).href;
    if (frame.src !== src) frame.src = src;
    frame.title = `Timeline of ${incidentTitle(id)} (live)`;
    link.href = src;
  }

  // -- a report and its proposals -----------------------------------------------------------

  function todayUtc() {
    return new Date().toISOString().slice(0, 10);
  }

  async function findAssertions(event) {
    event.preventDefault();
    const form = $("report-form"), button = $("find-assertions"), alerts = slot("report");
    clearAlert(alerts);
    const value = (name) => form.elements[name].value.trim();
    const body = { outlet: value("outlet"), published_at: value("published_at"), text: form.elements.text.value };
    if (value("url")) body.url = value("url");
    if (state.incidentId) body.incident_id = state.incidentId;
    button.disabled = true;
    announce("report-status", "Reading the report…");
    try {
      // The versions the proposals are matched against: read before the report is posted, so an
      // append by anyone else after this moment makes an accept stop and ask (never the reverse).
      await refreshVersions();
      const posted = await call("POST", "v1/articles", { body, withStatus: true });
      const article = posted.body;
      await showArticle(article);
      announce("report-status", postedMessage(article, posted.status === 200));
      $("review-heading").focus();
    } catch (error) {
      announce("report-status", "");
      showAlert(alerts, error);
    } finally {
      button.disabled = false;
    }
  }

  function postedMessage(article, before) {
    if (before) {
      return `This report was received before (${article.received_at}, by ${article.received_by}): ` +
        "its proposals are shown as they were decided.";
    }
    return article.proposals.length
      ? `Found ${article.proposals.length} proposed assertions; review them below.`
      : "The report states no dated facts the desk could find.";
  }

  async function refreshVersions() {
    const body = await call("GET", "v1/incidents");
    state.incidents = body.incidents;
    for (const incident of body.incidents) noteVersion(incident.id, incident.version);
  }

  async function showArticle(article) {
    state.article = article;
    state.cards = article.proposals.map((proposal, index) => ({
      proposal,
      number: index + 1,
      status: proposal.decision.status, // pending, accepted, rejected
      decision: proposal.decision,
      mode: "view", // view, edit, reject
      touched: false,
      busy: false,
      appended: null,
      problem: null,
      draft: null,
      el: null,
    }));
    await loadTargets(article.proposals);
    $("review-section").hidden = false;
    renderReport(article);
    renderCards();
    summarizeReview();
    for (const card of state.cards) {
      if (card.status === "accepted") loadAppended(card);
    }
  }

  // The timelines of the incidents the proposals point into, for the side-by-side view.
  async function loadTargets(proposals) {
    const incidents = new Set(proposals.filter((p) => p.target_assertion_id && p.incident_id).map((p) => p.incident_id));
    await Promise.all([...incidents].map((id) => readTimeline(id).catch(() => null)));
  }

  // The report as received, every proposal's quote highlighted in place (and the date phrases
  // within it), each highlight numbered and linked to its card. Quotes can overlap (a clause that
  // is a fact of its own inside a longer sentence): the inner one is a highlight inside the outer.
  function renderReport(article) {
    const meta = $("report-meta");
    clear(meta);
    appendAll(meta, [article.outlet, " · published ", article.published_at,
      article.url ? [" · ", h("a", { href: article.url, rel: "noopener noreferrer", target: "_blank" }, "the report online")] : null]);
    const body = $("report-body");
    clear(body);
    const spans = [];
    const datesSeen = new Set();
    for (const card of state.cards) {
      const { start, end, dates } = card.proposal;
      if (end > start) spans.push({ start, end, rank: 0, make: () => highlight(card) });
      for (const date of dates || []) {
        const key = `${date.start}:${date.end}`;
        if (date.end <= date.start || datesSeen.has(key)) continue;
        datesSeen.add(key);
        spans.push({ start: date.start, end: date.end, rank: 1, make: () => h("span", { class: "date-phrase" }) });
      }
    }
    spans.sort((a, b) => a.start - b.start || b.end - a.end || a.rank - b.rank);
    appendAll(body, nestSpans(article.text, 0, article.text.length, spans));
  }

  // Text from `from` to `to` with the spans (sorted by start, longest first) as nested elements;
  // a span that crosses the end of an enclosing one is cut there.
  function nestSpans(text, from, to, spans) {
    const nodes = [];
    let at = from;
    let i = 0;
    while (i < spans.length) {
      const outer = spans[i];
      const inner = [];
      let j = i + 1;
      for (; j < spans.length && spans[j].start < outer.end; j++) {
        const end = Math.min(spans[j].end, outer.end);
        if (end > spans[j].start) inner.push({ ...spans[j], end });
      }
      nodes.push(text.slice(at, outer.start));
      const el = outer.make();
      appendAll(el, nestSpans(text, outer.start, outer.end, inner));
      nodes.push(el);
      at = outer.end;
      i = j;
    }
    nodes.push(text.slice(at, to));
    return nodes;
  }

  function highlight(card) {
    return h("mark", { id: `mark-${card.proposal.id}`, "data-status": card.status },
      h("a", { class: "mark-number", href: `#card-${card.proposal.id}`, onclick: (e) => { e.preventDefault(); focusCard(card); } },
        visuallyHidden("Proposal "), String(card.number)));
  }

  function focusCard(card) {
    card.el.scrollIntoView({ block: "nearest" });
    card.el.focus();
  }

  function renderCards() {
    const list = $("cards");
    clear(list);
    for (const card of state.cards) {
      card.el = renderCard(card);
      list.append(h("li", {}, card.el));
    }
  }

  // Re-draw one card; the keyboard user's place is kept (the card itself, or the field in error).
  function updateCard(card, { focus } = {}) {
    const hadFocus = card.el && card.el.contains(document.activeElement);
    const fresh = renderCard(card);
    card.el.replaceWith(fresh);
    card.el = fresh;
    const mark = $(`mark-${card.proposal.id}`);
    if (mark) mark.setAttribute("data-status", card.status);
    if (focus) focus(fresh);
    else if (hadFocus) fresh.focus();
    summarizeReview();
  }

  // The counts are shown, not announced: each decision announces itself (review-status).
  function summarizeReview() {
    $("review-counts").textContent = reviewCounts();
    $("accept-all").disabled = state.acceptingAll || untouchedCards().length === 0;
  }

  function reviewCounts() {
    const count = (status) => state.cards.filter((c) => c.status === status).length;
    return `${state.cards.length} proposals: ${count("accepted")} accepted, ${count("rejected")} rejected, ${count("pending")} to decide.`;
  }

  function untouchedCards() {
    return state.cards.filter((c) => c.status === "pending" && !c.touched && !c.busy);
  }

  function renderCard(card) {
    const p = card.proposal;
    const headingId = `card-heading-${p.id}`;
    const article = h("article", {
      class: "card", id: `card-${p.id}`, tabindex: "-1", "aria-labelledby": headingId,
      "data-status": card.status, "data-action": p.action, "aria-busy": card.busy ? "true" : null,
    },
      h("header", { class: "card-header" },
        h("a", { class: "card-number", href: `#mark-${p.id}`, onclick: (e) => { e.preventDefault(); showInReport(card); } },
          visuallyHidden("Show proposal "), String(card.number), visuallyHidden(" in the report")),
        h("h4", { id: headingId }, p.headline),
        h("p", { class: `badge action action-${p.action}` }, ACTIONS[p.action] || p.action)),
      cardFacts(p),
      p.action === "record" ? h("blockquote", { class: "quote" }, p.quote) : comparison(card),
      h("p", { class: "why" }, p.reason, scoreText(p)),
      cardOutcome(card),
      h("div", { class: "alert-slot" }),
      cardControls(card));
    article.addEventListener("focusin", () => markCurrent(card, true));
    article.addEventListener("focusout", () => markCurrent(card, false));
    article.addEventListener("mouseenter", () => markCurrent(card, true));
    article.addEventListener("mouseleave", () => markCurrent(card, false));
    if (card.problem) showCardProblem(card, article.querySelector(":scope > .alert-slot"));
    return article;
  }

  // For `record` the score says how clearly the fact is new; for the others, how well it matches.
  function scoreText(p) {
    if (typeof p.score !== "number") return "";
    const percent = Math.round(p.score * 100);
    return p.action === "record" ? ` (new: ${percent}% sure)` : ` (match: ${percent}%)`;
  }

  function markCurrent(card, on) {
    const mark = $(`mark-${card.proposal.id}`);
    if (mark) mark.classList.toggle("current", on);
  }

  function showInReport(card) {
    const mark = $(`mark-${card.proposal.id}`);
    if (!mark) return;
    mark.scrollIntoView({ block: "nearest" });
    mark.querySelector("a").focus();
  }

  // The resolved date (the phrase, the EDTF, the human display), kind, speaker and incident.
  function cardFacts(p) {
    const phrases = (p.dates || []).map((d) => `“${d.phrase}”`).join(", ");
    return h("dl", { class: "facts" },
      h("div", {}, h("dt", {}, "Date"), h("dd", {},
        phrases ? [phrases, " → "] : h("span", { class: "muted" }, "no date phrase → "),
        h("code", {}, p.occurred.edtf), " · ", p.occurred.display)),
      h("div", {}, h("dt", {}, "Kind"), h("dd", {}, humanKind(p.kind))),
      h("div", {}, h("dt", {}, "Speaker"), h("dd", {}, p.attributed_to
        ? [p.attributed_to, p.speaker_actor_id ? h("span", { class: "muted" }, ` · actor ${p.speaker_actor_id}`) : null]
        : h("span", { class: "muted" }, "not attributed"))),
      h("div", {}, h("dt", {}, "Incident"), h("dd", {}, p.incident_id ? incidentTitle(p.incident_id) : h("span", { class: "muted" }, "none named"))));
  }

  // For corroborate, dispute and refine: the report's words beside the assertion they point at.
  function comparison(card) {
    const p = card.proposal;
    const target = p.target_assertion_id ? findEntry(p.target_assertion_id, p.incident_id) : null;
    const earlier = p.target_proposal_id ? state.cards.find((c) => c.proposal.id === p.target_proposal_id) : null;
    let recorded;
    if (target) recorded = recordedSummary(target);
    else if (earlier) {
      recorded = [h("p", {}, `Proposal ${earlier.number} of this report: “${earlier.proposal.headline}”`),
        h("p", { class: "muted" }, earlier.status === "accepted" ? "accepted: its assertion is the one disputed" : "accept that one first")];
    } else recorded = h("p", { class: "muted" }, p.target_assertion_id ? `${p.target_assertion_id} (not in the record this page has read)` : "none");
    return h("div", { class: "compare" },
      h("section", { class: "compare-side", "aria-label": "This report says" },
        h("h5", {}, "This report says"), h("blockquote", { class: "quote" }, p.quote)),
      h("section", { class: "compare-side", "aria-label": "The record holds" },
        h("h5", {}, "The record holds"), recorded));
  }

  function recordedSummary(entry) {
    return [
      h("p", { class: "compare-headline" }, entry.headline),
      h("p", { class: "meta" }, h("code", {}, entry.occurred.edtf), " · ", entry.occurred.display, " · ", humanKind(entry.kind),
        entry.attributed_to ? ` · ${entry.attributed_to}` : ""),
      h("p", { class: "meta" }, `${entry.sources.length} source${entry.sources.length === 1 ? "" : "s"}: `,
        entry.sources.map((s) => s.outlet).join(", "), entry.status === "retracted" ? " · retracted" : ""),
    ];
  }

  function cardOutcome(card) {
    const d = card.decision || {};
    if (card.status === "accepted") {
      const result = d.result || {};
      return h("div", { class: "outcome accepted" },
        h("p", {}, h("strong", {}, "Accepted"), d.decided_by ? ` by ${d.decided_by}` : "", d.overrides ? " (edited)" : "",
          result.incident_id ? `: appended to “${incidentTitle(result.incident_id)}” at version ${result.version}` : ""),
        card.appended ? h("ul", { class: "events", "aria-label": "What was appended" }, card.appended.map(eventLine)) : null);
    }
    if (card.status === "rejected") {
      return h("div", { class: "outcome rejected" },
        h("p", {}, h("strong", {}, "Rejected"), d.decided_by ? ` by ${d.decided_by}` : "", d.reason ? `: ${d.reason}` : ""));
    }
    return null;
  }

  function cardControls(card) {
    if (card.status !== "pending") return null;
    if (card.mode === "edit") return escapeCancels(editForm(card), card, "Edit");
    if (card.mode === "reject") return escapeCancels(rejectForm(card), card, "Reject");
    const name = visuallyHidden(` proposal ${card.number}`);
    return h("div", { class: "actions" },
      h("button", { type: "button", class: "primary", disabled: card.busy, onclick: () => accept(card, {}) }, "Accept", name.cloneNode(true)),
      h("button", { type: "button", disabled: card.busy, onclick: () => openMode(card, "edit") }, "Edit", name.cloneNode(true)),
      h("button", { type: "button", disabled: card.busy, onclick: () => openMode(card, "reject") }, "Reject", name));
  }

  function escapeCancels(form, card, buttonName) {
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") { event.preventDefault(); closeMode(card, buttonName); }
    });
    return form;
  }

  function openMode(card, mode) {
    card.mode = mode;
    card.touched = true;
    card.problem = null;
    updateCard(card, { focus: focusFirstField });
  }

  function closeMode(card, buttonName) {
    card.mode = "view";
    updateCard(card, { focus: (el) => [...el.querySelectorAll(".actions button")].find((b) => b.textContent.startsWith(buttonName)).focus() });
  }

  // Edit, then accept: only what the editor changed is sent (the accept's overrides).
  function editForm(card) {
    const p = card.proposal;
    const draft = card.draft || {};
    const pick = (name, proposed) => (name in draft ? draft[name] : proposed);
    const incident = choice("incident_id", state.incidents.map((i) => [i.id, i.title || i.id]), pick("incident_id", p.incident_id));
    const action = choice("action", Object.entries(ACTIONS), pick("action", p.action));
    const target = h("select", { name: "target_assertion_id" });
    const fillTargets = () => {
      const timeline = state.timelines.get(incident.value);
      const chosen = pick("target_assertion_id", p.target_assertion_id) || "";
      clear(target);
      target.append(h("option", { value: "" }, p.target_proposal_id ? "as proposed (an earlier proposal)" : "none"));
      for (const entry of (timeline ? timeline.entries : []).filter((e) => e.status === "active")) {
        target.append(h("option", { value: entry.assertion_id, selected: entry.assertion_id === chosen }, entry.headline));
      }
    };
    incident.addEventListener("change", async () => {
      if (!state.timelines.has(incident.value)) await readTimeline(incident.value).catch(() => null);
      fillTargets();
    });
    fillTargets();
    if (!state.timelines.has(incident.value)) readTimeline(incident.value).then(fillTargets, () => null);
    const kind = kindControl("kind", pick("kind", p.kind));
    const occurred = textInput("occurred", pick("occurred", p.occurred.edtf), { spellcheck: "false" });
    const headline = textInput("headline", pick("headline", p.headline), { maxlength: 300 });
    const speaker = textInput("attributed_to", pick("attributed_to", p.attributed_to), { maxlength: 300 });
    const form = h("form", { class: "edit-form", novalidate: true, "aria-label": `Edit proposal ${card.number}` },
      field("Headline", headline),
      field("Date (EDTF)", occurred, `Proposed: ${p.occurred.edtf} (${p.occurred.display}). E.g. 2026-01-24, 2026-01, 2026-01-24/2026-01-30, 2026-01-24~`),
      h("div", { class: "field-row" }, field("Kind", kind), field("Speaker", speaker)),
      h("div", { class: "field-row" }, field("Action", action), field("Append to incident", incident)),
      field("Recorded assertion", target, "For corroborate, dispute and refine: the assertion it points at."),
      h("div", { class: "actions" },
        h("button", { type: "submit", class: "primary", disabled: card.busy }, "Accept edited"),
        h("button", { type: "button", onclick: () => closeMode(card, "Edit") }, "Cancel")));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const values = {
        incident_id: incident.value, action: action.value, target_assertion_id: target.value,
        kind: kind.value.trim(), occurred: occurred.value.trim(), headline: headline.value.trim(), attributed_to: speaker.value.trim(),
      };
      card.draft = values;
      accept(card, changedFields(p, values));
    });
    return form;
  }

  function changedFields(p, values) {
    const proposed = { ...p, occurred: p.occurred.edtf };
    const changes = {};
    for (const [name, value] of Object.entries(values)) {
      if (value !== "" && value !== (proposed[name] ?? "")) changes[name] = value;
    }
    return changes;
  }

  function rejectForm(card) {
    const reason = h("textarea", { name: "reason", rows: 2, required: true, maxlength: 2000 });
    const form = h("form", { class: "edit-form", novalidate: true, "aria-label": `Reject proposal ${card.number}` },
      field("Reason", reason, "Kept with the report: why this is not a fact for the record."),
      h("div", { class: "actions" },
        h("button", { type: "submit", class: "danger", disabled: card.busy }, "Reject with this reason"),
        h("button", { type: "button", onclick: () => closeMode(card, "Reject") }, "Cancel")));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      reject(card, reason.value.trim());
    });
    return form;
  }

  async function accept(card, overrides) {
    const p = card.proposal;
    const incidentId = overrides.incident_id || p.incident_id || state.article.incident_id;
    const body = { ...overrides };
    if (state.versions.has(incidentId)) body.expected_version = state.versions.get(incidentId);
    card.busy = true;
    card.problem = null;
    updateCard(card);
    try {
      const result = await call("POST", `v1/articles/${encodeURIComponent(state.article.id)}/proposals/${encodeURIComponent(p.id)}/accept`, { body });
      noteVersion(result.incident_id, result.version);
      card.status = "accepted";
      card.decision = result.decision;
      card.mode = "view";
      card.draft = null;
      card.appended = await appendedEvents(result.incident_id, result.version, result.positions.length).catch(() => null);
      announce("review-status", `Proposal ${card.number} accepted: ${result.positions.length} event${result.positions.length === 1 ? "" : "s"} appended to “${incidentTitle(result.incident_id)}”.`);
      if (result.incident_id === state.incidentId) await loadRecord();
    } catch (error) {
      card.problem = { error, incidentId, overrides };
      card.touched = true;
    } finally {
      card.busy = false;
      updateCard(card, { focus: card.problem ? focusProblem : undefined });
    }
    return !card.problem;
  }

  function focusProblem(el) {
    const invalid = el.querySelector("[aria-invalid]");
    (invalid || el).focus();
  }

  function showCardProblem(card, where) {
    const { error, incidentId, overrides } = card.problem;
    if (error instanceof Refusal && error.isVersionConflict) {
      explainConflict(where, error, incidentId, async () => {
        noteVersion(incidentId, error.problem.current_version);
        await readTimeline(incidentId).catch(() => null);
        if (incidentId === state.incidentId) renderRecord();
        accept(card, overrides);
      });
    } else {
      showAlert(where, error);
    }
  }

  async function loadAppended(card) {
    const result = (card.decision && card.decision.result) || {};
    if (!result.incident_id || !Array.isArray(result.positions)) return;
    card.appended = await appendedEvents(result.incident_id, result.version, result.positions.length).catch(() => null);
    updateCard(card);
  }

  async function reject(card, reason) {
    card.busy = true;
    card.problem = null;
    try {
      const result = await call("POST", `v1/articles/${encodeURIComponent(state.article.id)}/proposals/${encodeURIComponent(card.proposal.id)}/reject`, { body: { reason } });
      card.status = "rejected";
      card.decision = result.decision;
      card.mode = "view";
      announce("review-status", `Proposal ${card.number} rejected.`);
    } catch (error) {
      card.problem = { error, incidentId: card.proposal.incident_id, overrides: {} };
    } finally {
      card.busy = false;
      updateCard(card, { focus: card.problem ? focusProblem : (el) => el.focus() });
    }
  }

  // Accept, one after the other, every proposal nobody has opened: a dispute of an earlier
  // proposal of the same report then finds that one accepted. A stale version stops the run
  // (every later accept would be refused the same way).
  async function acceptAll() {
    state.acceptingAll = true;
    let accepted = 0, refused = 0;
    try {
      for (const card of untouchedCards()) {
        if (await accept(card, {})) { accepted += 1; continue; }
        refused += 1;
        if (card.problem.error.isVersionConflict) break;
      }
    } finally {
      state.acceptingAll = false;
      summarizeReview();
    }
    announce("review-status", `Accept all: ${accepted} accepted${refused ? `, ${refused} refused (the card says why)` : ""}. ${reviewCounts()}`);
  }

  // -- the record ---------------------------------------------------------------------------

  async function loadRecord() {
    const alerts = slot("record");
    clearAlert(alerts);
    if (!state.incidentId) { renderRecord(); return; }
    try {
      await readTimeline(state.incidentId);
    } catch (error) {
      showAlert(alerts, error);
    }
    renderRecord();
  }

  function searchText(entry) {
    return [entry.assertion_id, entry.headline, entry.text, entry.attributed_to, entry.kind, entry.occurred.edtf,
      entry.occurred.display, ...(entry.sources || []).flatMap((s) => [s.outlet, s.quote])]
      .filter(Boolean).join(" ").toLowerCase();
  }

  function matchesSearch(entry, query) {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    const text = searchText(entry);
    return words.every((word) => text.includes(word));
  }

  function renderRecord({ focusAssertion } = {}) {
    const list = $("record-list");
    clear(list);
    const timeline = state.incidentId ? state.timelines.get(state.incidentId) : null;
    if (!timeline) { announce("record-status", state.incidentId ? "" : "Choose an incident to see its record."); return; }
    const shown = timeline.entries.filter((entry) => matchesSearch(entry, state.search));
    for (const entry of shown) list.append(h("li", {}, renderEntry(entry, timeline)));
    announce("record-status", state.search
      ? `${shown.length} of ${timeline.entries.length} assertions match “${state.search}”.`
      : `${timeline.entries.length} assertions, version ${timeline.version}.`);
    if (focusAssertion) {
      const target = $(entryId(focusAssertion));
      if (target) target.focus();
    }
  }

  const entryId = (assertionId) => `entry-${assertionId.replace(/[^A-Za-z0-9_-]/g, "_")}`;

  function renderEntry(entry, timeline) {
    const headingId = `${entryId(entry.assertion_id)}-heading`;
    const retracted = entry.status === "retracted";
    const headline = (id) => { const other = timeline.entries.find((e) => e.assertion_id === id); return other ? `“${other.headline}”` : id; };
    const tools = disclosure(["Tools", visuallyHidden(` for “${entry.headline}”`)], () => entryTools(entry, timeline), { className: "tools-toggle" });
    return h("article", { class: "entry", id: entryId(entry.assertion_id), tabindex: "-1", "aria-labelledby": headingId, "data-status": entry.status },
      h("h3", { id: headingId }, retracted ? [visuallyHidden("Retracted: "), h("s", {}, entry.headline)] : entry.headline),
      h("p", { class: "meta" },
        h("code", {}, entry.occurred.edtf), " · ", entry.occurred.display, " · ", humanKind(entry.kind),
        entry.attributed_to ? ` · ${entry.attributed_to}` : "",
        entry.rank && entry.rank !== "normal" ? h("span", { class: `badge rank-${entry.rank}` }, entry.rank) : null),
      h("p", { class: "meta" }, `Sources: ${entry.sources.map((s) => s.outlet).join(", ")}`,
        entry.revisions && entry.revisions.count ? ` · revised ${entry.revisions.count}×` : ""),
      retracted ? h("p", { class: "badge-line retracted" }, h("strong", {}, "Retracted"), entry.retraction && entry.retraction.reason ? `: ${entry.retraction.reason}` : "") : null,
      entry.disputed_by.length ? h("p", { class: "badge-line disputed" }, h("strong", {}, "Disputed by "), entry.disputed_by.map(headline).join("; ")) : null,
      entry.disputes.length ? h("p", { class: "badge-line disputing" }, h("strong", {}, "Disputes "), entry.disputes.map(headline).join("; ")) : null,
      h("p", { class: "meta muted" }, "id ", h("code", {}, entry.assertion_id)),
      tools.button, tools.panel);
  }

  // The record's own tools on one entry, one open at a time.
  function entryTools(entry, timeline) {
    const others = timeline.entries.filter((e) => e.assertion_id !== entry.assertion_id);
    const tools = [
      ["Attach a source", () => attachSourceForm(entry)],
      ["Dispute with", () => disputeForm(entry, others)],
      ["Revise", () => reviseForm(entry)],
      ["Rank", () => rankForm(entry)],
      ["Retract", () => retractForm(entry)],
    ].map(([label, build]) => disclosure(label, build, { className: "tool" }));
    for (const tool of tools) {
      tool.button.addEventListener("click", () => {
        for (const other of tools) if (other !== tool && other.isOpen) other.close({ focus: false });
      });
    }
    return h("div", { class: "tools" },
      h("div", { class: "tool-buttons", role: "group", "aria-label": `Tools for “${entry.headline}”` }, tools.map((t) => t.button)),
      tools.map((t) => t.panel));
  }

  function toolForm(label, fields, submitLabel, toEvent, done, { danger } = {}) {
    const alerts = h("div", { class: "alert-slot" });
    const form = h("form", { class: "tool-form", novalidate: true, "aria-label": label },
      fields,
      h("div", { class: "actions" }, h("button", { type: "submit", class: danger ? "danger" : "primary" }, submitLabel)),
      alerts);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      clearAlert(alerts);
      const made = toEvent(form.elements);
      if (made instanceof Error) { showAlert(alerts, made); return; }
      appendToRecord(made, { alerts, done: done(made), focusAssertion: made.data.assertion_id });
    });
    return form;
  }

  const valueOf = (elements, name) => (elements[name] ? elements[name].value.trim() : "");

  function attachSourceForm(entry) {
    return toolForm(`Attach a source to “${entry.headline}”`, [
      h("div", { class: "field-row" },
        field("Outlet", textInput("outlet", "", { required: true, maxlength: 300 })),
        field("Published", textInput("published_at", "", { inputmode: "numeric" }), "2026-02-02 or 2026-02-02T14:30:00Z")),
      field("URL", textInput("url", "", { type: "url", maxlength: 2000 })),
      field("Quote", h("textarea", { name: "quote", rows: 2, maxlength: 2000 })),
    ], "Attach source", (f) => {
      const source = { outlet: valueOf(f, "outlet") };
      for (const name of ["url", "published_at", "quote"]) if (valueOf(f, name)) source[name] = valueOf(f, name);
      return { type: "SourceAttached", data: { assertion_id: entry.assertion_id, source } };
    }, (e) => `Attached ${e.data.source.outlet} to “${entry.headline}”.`);
  }

  function disputeForm(entry, others) {
    const options = others.map((e) => [e.assertion_id, e.headline]);
    return toolForm(`Dispute “${entry.headline}”`, [
      field("Disputed by", choice("by_assertion_id", options), "The recorded assertion that contradicts this one."),
      field("Note", h("textarea", { name: "note", rows: 2, maxlength: 10000 })),
    ], "Record the dispute", (f) => {
      if (!options.length) return new Error("this incident holds no other assertion to dispute with");
      const data = { assertion_id: entry.assertion_id, by_assertion_id: valueOf(f, "by_assertion_id") };
      if (valueOf(f, "note")) data.note = valueOf(f, "note");
      return { type: "AssertionDisputed", data };
    }, () => `Recorded: “${entry.headline}” is disputed.`);
  }

  function reviseForm(entry) {
    const current = {
      occurred: entry.occurred.edtf, headline: entry.headline, text: entry.text || "", kind: entry.kind, attributed_to: entry.attributed_to || "",
    };
    const which = choice("field", Object.entries(REVISABLE), "occurred");
    const slotForValue = h("div", { class: "field-slot" });
    const showValue = () => {
      clear(slotForValue);
      const control = which.value === "kind" ? kindControl("value", current.kind)
        : which.value === "text" ? h("textarea", { name: "value", rows: 3, value: current.text })
          : textInput("value", current[which.value], { spellcheck: which.value === "occurred" ? "false" : null });
      slotForValue.append(field("New value", control));
    };
    which.addEventListener("change", showValue);
    showValue();
    return toolForm(`Revise “${entry.headline}”`, [
      field("Field", which), slotForValue,
      field("Reason", h("textarea", { name: "reason", rows: 2, required: true, maxlength: 10000 }), "Why the record changes: kept with the revision."),
    ], "Revise", (f) => ({
      type: "AssertionRevised",
      data: { assertion_id: entry.assertion_id, changes: { [valueOf(f, "field")]: valueOf(f, "value") }, reason: valueOf(f, "reason") },
    }), (e) => `Revised ${REVISABLE[Object.keys(e.data.changes)[0]]} of “${entry.headline}”.`);
  }

  function rankForm(entry) {
    return toolForm(`Rank “${entry.headline}”`, [
      field("Rank", choice("rank", state.vocabulary.ranks.map((r) => [r, r]), entry.rank || "normal")),
      field("Reason (optional)", h("textarea", { name: "reason", rows: 2, maxlength: 10000 })),
    ], "Set rank", (f) => {
      const data = { assertion_id: entry.assertion_id, rank: valueOf(f, "rank") };
      if (valueOf(f, "reason")) data.reason = valueOf(f, "reason");
      return { type: "AssertionRanked", data };
    }, (e) => `Ranked “${entry.headline}” ${e.data.rank}.`);
  }

  function retractForm(entry) {
    return toolForm(`Retract “${entry.headline}”`, [
      field("Reason", h("textarea", { name: "reason", rows: 2, required: true, maxlength: 10000 }), "Retracted entries stay in the record, struck through, with this reason."),
    ], "Retract", (f) => ({ type: "AssertionRetracted", data: { assertion_id: entry.assertion_id, reason: valueOf(f, "reason") } }),
    () => `Retracted “${entry.headline}”.`, { danger: true });
  }

  // One event appended to the chosen incident, stating the version of the record shown.
  async function appendToRecord(event, { alerts, done, focusAssertion, statusId = "record-status" }) {
    const incidentId = state.incidentId;
    const body = { events: [event] };
    if (state.versions.has(incidentId)) body.expected_version = state.versions.get(incidentId);
    clearAlert(alerts);
    try {
      const result = await call("POST", incidentPath(incidentId, "/events"), { body });
      noteVersion(incidentId, result.version);
    } catch (error) {
      if (error instanceof Refusal && error.isVersionConflict) {
        explainConflict(alerts, error, incidentId, async () => {
          noteVersion(incidentId, error.problem.current_version);
          appendToRecord(event, { alerts, done, focusAssertion, statusId });
        });
      } else {
        showAlert(alerts, error);
      }
      return;
    }
    await loadRecord();
    renderRecord({ focusAssertion });
    announce(statusId, done);
    if (event.type === "IncidentsLinked") renderIncidentTools();
  }

  // -- start --------------------------------------------------------------------------------

  async function start() {
    state.key = storedKey();
    showKeyState();
    $("key-form").addEventListener("submit", useKey);
    $("forget-key").addEventListener("click", forgetKey);
    $("incident").addEventListener("change", (event) => selectIncident(event.target.value || null));
    $("report-form").addEventListener("submit", findAssertions);
    $("accept-all").addEventListener("click", acceptAll);
    $("reload-record").addEventListener("click", () => loadRecord());
    $("record-search").addEventListener("input", (event) => { state.search = event.target.value.trim(); renderRecord(); });
    const published = $("report-published");
    if (!published.value) published.value = todayUtc();
    renderIncidentTools();
    await loadVocabulary();
    await refreshIncidents();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
