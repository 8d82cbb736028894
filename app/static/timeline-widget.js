/*
 * Incident timeline widget: plain JavaScript, no framework, no build step.
 *
 *   <link rel="stylesheet" href="https://HOST/static/timeline-widget.css">
 *   <script src="https://HOST/static/timeline-widget.js" defer></script>
 *   <div data-timeline-widget data-incident="alex-pretti-shooting"></div>
 *
 * or, from a script: TimelineWidget.mount(element, {api: "https://HOST", incident: "alex-pretti-shooting"}).
 *
 * Options (data-* attributes in brackets):
 *   api            base URL of the API [data-api]; default: where this script was loaded from
 *   incident       the incident id [data-incident]
 *   kinds          kinds shown at first, e.g. ["shooting", "official_statement"] [data-kinds="a,b"]
 *   asOfVersion    open at this version instead of now [data-as-of-version]
 *   live           follow new events as they are appended (default true) [data-live="false"]
 *   showRetracted  show retracted entries, struck through (default true) [data-show-retracted="false"]
 *   locale         for dates (default: the browser's) [data-locale]
 *   needsKey       the API's reads are private (TIMELINE_PUBLIC_READ=false): ask for an API key
 *                  first [data-needs-key="true"]; the widget page sets it itself
 *
 * With needsKey the key is typed into a field labelled "API key", kept in sessionStorage (this
 * tab, until it closes; never in a URL or a cookie) and sent as "Authorization: Bearer" on every
 * request. EventSource cannot send that header, so live updates are then read with fetch().
 *
 * The element receives a "timelinewidget:render" event after every render, with
 * detail {version, asOfVersion, headVersion, shown}.
 */
(function (global) {
  "use strict";

  const SCRIPT = document.currentScript;
  const DAY_MS = 86400000;
  const RECONNECT_MAX_MS = 30000;
  let instances = 0;

  // -- small helpers --------------------------------------------------------------------

  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") node.className = value;
      else if (name === "style") Object.assign(node.style, value);
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else if (name in node && !name.includes("-") && name !== "list") node[name] = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    append(node, children);
    return node;
  }

  function append(node, children) {
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function srOnly(text) {
    return h("span", { class: "tlw-sr" }, text);
  }

  function kindLabel(kind) {
    const words = String(kind || "other").replace(/_/g, " ");
    return words.charAt(0).toUpperCase() + words.slice(1);
  }

  function safeUrl(url) {
    try {
      const parsed = new URL(url);
      return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch (_) {
      return null;
    }
  }

  // A calendar day "YYYY-MM-DD" as a whole number of days since the epoch (UTC, no time zone games).
  function dayNumber(iso) {
    const match = /^(-?\d{4,})-(\d{2})-(\d{2})/.exec(iso || "");
    if (!match) return null;
    return Math.round(Date.UTC(+match[1], +match[2] - 1, +match[3]) / DAY_MS);
  }

  // The API gives an open interval end ("since Jan 26", "until Feb 1") as the first or last
  // representable day; draw it to the edge of the axis instead of stretching the axis to year 9999.
  const OPEN_START = "0001-01-01";
  const OPEN_END = "9999-12-31";

  function daySpan(occurred) {
    const a = occurred.earliest === OPEN_START ? null : dayNumber(occurred.earliest);
    const b = occurred.latest === OPEN_END ? null : dayNumber(occurred.latest);
    if (a === null && b === null) return null;
    return { a: a ?? b, b: b ?? a, openStart: a === null, openEnd: b === null };
  }

  function onAxis(span, scale) {
    return {
      a: span.openStart ? Math.ceil(scale.from) : span.a,
      b: span.openEnd ? Math.floor(scale.to) - 1 : span.b,
    };
  }

  function cssIdent(text) {
    return String(text).replace(/[^A-Za-z0-9_-]/g, (c) => "_" + c.charCodeAt(0).toString(16));
  }

  function reducedMotion() {
    return global.matchMedia && global.matchMedia("(prefers-reduced-motion: reduce)").matches;
  }

  // -- the widget -----------------------------------------------------------------------

  class Widget {
    constructor(element, options) {
      if (!element) throw new Error("TimelineWidget.mount needs an element");
      if (!options || !options.incident) throw new Error("TimelineWidget.mount needs {incident: id}");
      this.el = element;
      this.incident = String(options.incident);
      this.api = String(options.api === undefined || options.api === null ? defaultApi() : options.api).replace(/\/+$/, "");
      this.live = options.live !== false;
      this.showRetracted = options.showRetracted !== false;
      this.locale = options.locale || undefined;
      this.asOfVersion = Number.isInteger(options.asOfVersion) ? options.asOfVersion : null;
      this.selectedKinds = options.kinds && options.kinds.length ? new Set(options.kinds) : null;
      this.needsKey = options.needsKey === true;
      this.key = this.needsKey ? storedKey(this.api) : null;
      this.uid = "tlw" + ++instances;
      this.data = null;
      this.versions = new Map(); // version -> {version, type, recorded_at, reported_at, data}
      this.headVersion = 0;
      this.lastStreamVersion = 0;
      this.knownIds = null;
      this.freshIds = new Set();
      this.request = 0;
      this.timers = new Set();
      this.source = null;
      this.reconnectDelay = 1000;
      this.destroyed = false;
      this.dates = new Intl.DateTimeFormat(this.locale, { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
      this.moments = new Intl.DateTimeFormat(this.locale, {
        day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", timeZone: "UTC",
      });
      if (this.needsKey && !this.key) { this.askForKey(); return; }
      this.build();
      this.start();
    }

    // A publication time as the service gives it: a day ("2026-02-02", perhaps with an offset) is
    // shown as that day, never as an invented time of day; a time is shown with its UTC minute.
    published(text) {
      const day = /^(\d{4}-\d{2}-\d{2})(Z|[+-]\d{2}:\d{2})?$/.exec(text || "");
      if (day) return this.dates.format(new Date(`${day[1]}T00:00:00Z`));
      return `${this.moments.format(new Date(text))} UTC`;
    }

    // -- the API key, when reads are private --

    askForKey(message) {
      const id = `${this.uid}-key`;
      const input = h("input", {
        type: "password", id, name: "api-key", class: "tlw-key-input", autocomplete: "off", spellcheck: false,
        "aria-describedby": message ? `${id}-error` : null,
      });
      const form = h("form", {
        class: "tlw-key", onsubmit: (event) => { event.preventDefault(); this.useKey(input.value); },
      },
        h("p", { class: "tlw-key-intro" }, "This timeline is not public: enter an API key with the read scope to see it."),
        h("label", { for: id, class: "tlw-control-label" }, "API key"),
        h("div", { class: "tlw-asof-row" }, input, h("button", { type: "submit" }, "Show timeline")),
        message ? h("p", { class: "tlw-error", role: "alert", id: `${id}-error` }, message) : null,
        h("p", { class: "tlw-status" }, "The key stays in this browser tab until it is closed."));
      this.el.classList.add("tlw");
      this.el.replaceChildren(h("section", { class: "tlw-root" }, form));
      this.el.setAttribute("data-state", "key-needed");
      if (message) input.focus({ preventScroll: true });
    }

    useKey(text) {
      const key = String(text || "").trim();
      if (!key) { this.askForKey("Enter the API key first."); return; }
      this.key = key;
      storeKey(this.api, key);
      this.build();
      this.start();
    }

    refuseKey(error) {
      // The key was refused (mistyped, revoked, or without the read scope): forget it, stop
      // what runs under it, and ask again from a clean state.
      if (this.source) { this.source.close(); this.source = null; }
      this.stopReplay();
      clearTimeout(this.slideTimer);
      this.slideTimer = null;
      for (const timer of this.timers) clearTimeout(timer);
      this.timers.clear();
      this.connected = false;
      this.key = null;
      storeKey(this.api, null);
      this.data = null;
      this.versions = new Map();
      this.headVersion = 0;
      this.lastStreamVersion = 0;
      this.knownIds = null;
      this.freshIds.clear();
      this.kindsSignature = null;
      this.request += 1; // a reply still on its way is for the old key: ignore it
      this.askForKey(`That key was not accepted: ${error.message}`);
    }

    headers(extra) {
      return this.key ? { ...extra, Authorization: `Bearer ${this.key}` } : extra;
    }

    // -- skeleton, built once --

    build() {
      const id = (name) => `${this.uid}-${name}`;
      this.el.classList.add("tlw");
      this.el.setAttribute("data-state", "loading");
      this.titleEl = h("h2", { class: "tlw-title", id: id("title") }, this.incident);
      this.summaryEl = h("p", { class: "tlw-summary tlw-clamped", id: id("summary"), hidden: true });
      this.moreBtn = h("button", {
        type: "button", class: "tlw-more", hidden: true, "aria-expanded": "false", "aria-controls": id("summary"),
        onclick: () => {
          const open = this.summaryEl.classList.toggle("tlw-clamped") === false;
          this.moreBtn.setAttribute("aria-expanded", String(open));
          this.moreBtn.textContent = open ? "Less" : "More";
        },
      }, "More");
      this.statusEl = h("p", { class: "tlw-status", role: "status", "aria-live": "polite" }, "Loading…");
      this.announceEl = h("p", { class: "tlw-sr", "aria-live": "polite" });
      this.errorEl = h("p", { class: "tlw-error", role: "alert", hidden: true });

      this.slider = h("input", {
        type: "range", id: id("asof"), class: "tlw-slider", min: "1", max: "1", step: "1", value: "1",
        "aria-describedby": id("moment"),
        oninput: () => this.onSlide(false),
        onchange: () => this.onSlide(true),
      });
      this.earlierBtn = h("button", { type: "button", class: "tlw-step", onclick: () => this.step(-1) },
        h("span", { "aria-hidden": "true" }, "‹"), srOnly("Earlier version"));
      this.laterBtn = h("button", { type: "button", class: "tlw-step", onclick: () => this.step(1) },
        h("span", { "aria-hidden": "true" }, "›"), srOnly("Later version"));
      this.latestBtn = h("button", { type: "button", class: "tlw-latest", onclick: () => this.setAsOf(null) }, "Latest");
      this.replayBtn = h("button", { type: "button", class: "tlw-replay", "aria-pressed": "false", onclick: () => this.toggleReplay() }, "Replay");
      this.momentEl = h("p", { class: "tlw-moment", id: id("moment") });

      this.kindsEl = h("fieldset", { class: "tlw-kinds" }, h("legend", { class: "tlw-sr" }, "Kinds"));
      this.kindsSummary = h("span", { class: "tlw-kinds-summary" }, "all");
      // Open on a wide screen; on a phone the list of kinds would push the timeline off screen.
      this.filterPanel = h("details", { class: "tlw-filter-panel", open: this.el.clientWidth >= 640 },
        h("summary", { class: "tlw-control-label" }, "Kinds: ", this.kindsSummary), this.kindsEl);
      this.retractedBox = h("input", {
        type: "checkbox", id: id("retracted"), checked: this.showRetracted,
        onchange: () => { this.showRetracted = this.retractedBox.checked; this.render(); },
      });

      this.axisEl = h("div", { class: "tlw-axis", "aria-hidden": "true" });
      this.listEl = h("ol", { class: "tlw-list", "aria-labelledby": id("title") });
      this.emptyEl = h("p", { class: "tlw-empty", hidden: true });

      const controls = h("div", { class: "tlw-controls" },
        h("div", { class: "tlw-asof", role: "group", "aria-label": "Replay how the timeline looked at a recorded moment" },
          h("label", { for: id("asof"), class: "tlw-control-label" }, "As of"),
          h("div", { class: "tlw-asof-row" }, this.earlierBtn, this.slider, this.laterBtn, this.latestBtn, this.replayBtn),
          this.momentEl),
        h("div", { class: "tlw-filters" },
          this.filterPanel,
          h("p", { class: "tlw-toggle" }, this.retractedBox, " ", h("label", { for: id("retracted") }, "Show retracted entries"))));

      this.el.replaceChildren(
        h("section", { class: "tlw-root", "aria-labelledby": id("title") },
          h("header", { class: "tlw-header" }, this.titleEl, this.summaryEl, this.moreBtn, this.statusEl),
          controls, this.errorEl, this.announceEl, this.axisEl, this.emptyEl, this.listEl));

      this.listEl.addEventListener("click", (event) => this.onListClick(event));
      for (const type of ["mouseover", "focusin"]) this.listEl.addEventListener(type, (e) => this.onPoint(e, true));
      for (const type of ["mouseout", "focusout"]) this.listEl.addEventListener(type, (e) => this.onPoint(e, false));
      this.axisEl.addEventListener("click", (event) => {
        const mark = event.target.closest("[data-assertion-id]");
        if (mark) { event.preventDefault(); this.jumpTo(mark.getAttribute("data-assertion-id")); }
      });
    }

    url(path, params) {
      const query = new URLSearchParams(params || {}).toString();
      return `${this.api}/v1/incidents/${encodeURIComponent(this.incident)}${path}${query ? "?" + query : ""}`;
    }

    async getJson(url) {
      const response = await fetch(url, { headers: this.headers({ Accept: "application/json" }) });
      if (!response.ok) throw await httpError(response);
      return response.json();
    }

    async start() {
      try {
        await Promise.all([this.loadVersions(), this.refresh()]);
      } catch (error) {
        this.fail(error);
        return;
      }
      // Follow from the older of the two reads, so nothing appended between them is missed.
      if (this.live) this.connect(Math.min(this.headVersion, this.data ? this.data.version : 0));
      else this.setStatus("Not following live updates");
    }

    fail(error) {
      if (this.destroyed) return;
      if (this.key && (error.status === 401 || error.status === 403)) { this.refuseKey(error); return; }
      this.errorEl.textContent = `Could not load the timeline: ${error.message}`;
      this.errorEl.hidden = false;
      this.el.setAttribute("data-state", "error");
    }

    // -- versions: what the as-of control offers --

    async loadVersions() {
      let after = 0;
      for (;;) {
        const page = await this.getJson(this.url("/events", { after_version: after, limit: 1000 }));
        for (const event of page.events) this.addVersion(event);
        this.headVersion = Math.max(this.headVersion, page.version);
        if (page.next_after_version === null || page.next_after_version === undefined) break;
        after = page.next_after_version;
      }
      this.lastStreamVersion = Math.max(this.lastStreamVersion, this.headVersion);
      this.updateAsOfControl();
    }

    addVersion(event) {
      if (this.versions.has(event.version)) return false;
      this.versions.set(event.version, {
        version: event.version, type: event.type, data: event.data || {},
        recorded_at: event.recorded_at, reported_at: event.reported_at,
      });
      this.headVersion = Math.max(this.headVersion, event.version);
      return true;
    }

    describeVersion(entry) {
      const d = entry.data;
      const name = (id) => {
        const known = this.data && this.data.entries.find((e) => e.assertion_id === id);
        return known ? `“${known.headline}”` : id;
      };
      switch (entry.type) {
        case "IncidentOpened": return `Incident opened: ${d.title}`;
        case "IncidentRevised": return "Incident details revised";
        case "IncidentsLinked": return `Linked to ${d.related_incident_id}`;
        case "AssertionRecorded": return `Recorded: “${d.headline}”`;
        case "SourceAttached": return `${d.source && d.source.outlet} also reports ${name(d.assertion_id)}`;
        case "AssertionDisputed": return `${name(d.by_assertion_id)} disputes ${name(d.assertion_id)}`;
        case "AssertionRevised": return `Revised ${name(d.assertion_id)}: ${d.reason}`;
        case "AssertionRanked": return `Ranked ${d.rank}: ${name(d.assertion_id)}`;
        case "AssertionRetracted": return `Retracted ${name(d.assertion_id)}: ${d.reason}`;
        default: return entry.type;
      }
    }

    updateAsOfControl() {
      const head = Math.max(this.headVersion, 1);
      const shown = this.asOfVersion === null ? head : Math.min(this.asOfVersion, head);
      this.slider.max = String(head);
      if (!this.slideTimer) this.slider.value = String(shown);
      this.describeMoment(Number(this.slider.value));
    }

    describeMoment(version) {
      const head = Math.max(this.headVersion, 1);
      const entry = this.versions.get(version);
      const when = entry
        ? `recorded ${this.moments.format(new Date(entry.recorded_at))} UTC, reported ${this.published(entry.reported_at)}`
        : "";
      const what = entry ? this.describeVersion(entry) : "";
      const label = version >= head && this.asOfVersion === null ? "now" : `version ${version} of ${head}`;
      this.slider.setAttribute("aria-valuetext", `Version ${version} of ${head}${entry ? ", " + when : ""}`);
      this.momentEl.replaceChildren(
        h("strong", {}, version >= head ? `Latest (version ${version})` : `Version ${version} of ${head}`),
        when ? ` · ${when}` : "", what ? h("span", { class: "tlw-moment-what" }, what) : "");
      this.latestBtn.disabled = this.asOfVersion === null;
      this.earlierBtn.disabled = version <= 1;
      this.laterBtn.disabled = version >= head;
      this.el.setAttribute("data-as-of", label);
    }

    onSlide(commit) {
      this.stopReplay();
      const version = Number(this.slider.value);
      this.describeMoment(version);
      clearTimeout(this.slideTimer);
      const apply = () => {
        this.slideTimer = null;
        this.setAsOf(version >= this.headVersion ? null : version);
      };
      if (commit) apply();
      else this.slideTimer = setTimeout(apply, 150);
    }

    step(delta) {
      this.stopReplay();
      const current = this.asOfVersion === null ? this.headVersion : this.asOfVersion;
      const next = Math.max(1, Math.min(this.headVersion, current + delta));
      this.setAsOf(next >= this.headVersion ? null : next);
    }

    setAsOf(version) {
      if (version === this.asOfVersion) { this.updateAsOfControl(); return; }
      this.asOfVersion = version;
      this.knownIds = null; // moving through time is not "new" news
      this.updateAsOfControl();
      this.refresh().catch((error) => this.fail(error));
      this.updateLiveStatus();
    }

    toggleReplay() {
      if (this.replayTimer) { this.stopReplay(); return; }
      this.replayBtn.setAttribute("aria-pressed", "true");
      this.replayBtn.textContent = "Stop";
      let version = this.asOfVersion === null || this.asOfVersion >= this.headVersion ? 1 : this.asOfVersion;
      this.setAsOf(version);
      this.replayTimer = setInterval(() => {
        version += 1;
        this.setAsOf(version >= this.headVersion ? null : version);
        if (version >= this.headVersion) this.stopReplay();
      }, reducedMotion() ? 1600 : 900);
    }

    stopReplay() {
      if (!this.replayTimer) return;
      clearInterval(this.replayTimer);
      this.replayTimer = null;
      this.replayBtn.setAttribute("aria-pressed", "false");
      this.replayBtn.textContent = "Replay";
    }

    // -- the timeline --

    async refresh() {
      if (this.refreshing) { this.refreshAgain = true; return this.refreshing; }
      const run = async () => {
        do {
          this.refreshAgain = false;
          const ticket = ++this.request;
          const params = { include_retracted: "true" };
          if (this.asOfVersion !== null) params.as_of_version = String(this.asOfVersion);
          const data = await this.getJson(this.url("/timeline", params));
          if (ticket !== this.request || this.destroyed) continue;
          this.errorEl.hidden = true;
          this.setData(data);
        } while (this.refreshAgain && !this.destroyed);
      };
      this.refreshing = run().finally(() => { this.refreshing = null; });
      return this.refreshing;
    }

    setData(data) {
      const ids = new Set(data.entries.map((e) => e.assertion_id));
      if (this.knownIds && this.asOfVersion === null) {
        const fresh = [...ids].filter((id) => !this.knownIds.has(id));
        for (const id of fresh) this.freshIds.add(id);
        if (fresh.length) {
          const names = data.entries.filter((e) => fresh.includes(e.assertion_id)).map((e) => e.headline);
          this.announceEl.textContent = `${fresh.length === 1 ? "New entry" : fresh.length + " new entries"}: ${names.join("; ")}`;
        }
      }
      this.knownIds = ids;
      this.data = data;
      this.render();
    }

    render() {
      if (!this.data) return;
      const data = this.data;
      const incident = data.incident || {};
      this.titleEl.textContent = incident.title || this.incident;
      this.summaryEl.textContent = incident.summary || "";
      this.summaryEl.hidden = !incident.summary;
      // "More" only when the clamped summary actually hides something.
      const clamped = this.summaryEl.classList.contains("tlw-clamped");
      this.moreBtn.hidden = !incident.summary || (clamped && this.summaryEl.scrollHeight <= this.summaryEl.clientHeight + 1);
      this.renderKinds(data.entries);

      const shown = data.entries.filter((e) =>
        (this.showRetracted || e.status !== "retracted") && (!this.selectedKinds || this.selectedKinds.has(e.kind)));
      const focusKey = this.focusKey();
      const open = new Set([...this.listEl.querySelectorAll("details[open][data-key]")].map((d) => d.dataset.key));
      const scale = this.scale(data.entries);
      this.renderAxis(shown, scale);
      this.listEl.replaceChildren(...shown.map((entry) => this.renderEntry(entry, scale)));
      for (const details of this.listEl.querySelectorAll("details[data-key]")) {
        if (open.has(details.dataset.key)) details.open = true;
      }
      this.restoreFocus(focusKey);

      this.emptyEl.hidden = shown.length > 0;
      this.emptyEl.textContent = data.entries.length
        ? "No entries match the filters."
        : "Nothing had been recorded about this incident at this version.";
      this.updateAsOfControl();
      this.el.setAttribute("data-state", "ready");
      this.el.setAttribute("data-version", String(data.version));
      this.el.dispatchEvent(new CustomEvent("timelinewidget:render", {
        detail: { version: data.version, asOfVersion: this.asOfVersion, headVersion: this.headVersion, shown: shown.length },
      }));
      if (this.freshIds.size) {
        const fresh = [...this.freshIds];
        const timer = setTimeout(() => {
          for (const id of fresh) this.freshIds.delete(id);
          for (const id of fresh) { const li = this.entryEl(id); if (li) li.classList.remove("tlw-new"); }
          this.timers.delete(timer);
        }, 4000);
        this.timers.add(timer);
      }
    }

    renderKinds(entries) {
      const counts = new Map();
      for (const entry of entries) counts.set(entry.kind, (counts.get(entry.kind) || 0) + 1);
      if (this.selectedKinds) for (const kind of this.selectedKinds) if (!counts.has(kind)) counts.set(kind, 0);
      const kinds = [...counts.keys()].sort();
      const signature = kinds.map((k) => `${k}:${counts.get(k)}`).join(",");
      if (signature === this.kindsSignature) {
        for (const box of this.kindsEl.querySelectorAll("input[data-kind]")) {
          box.checked = !this.selectedKinds || this.selectedKinds.has(box.dataset.kind);
        }
        this.kindsSummary.textContent = this.selectedKinds ? `${this.selectedKinds.size} of ${kinds.length}` : `all ${kinds.length}`;
        return;
      }
      this.kindsSignature = signature;
      this.kindsSummary.textContent = this.selectedKinds ? `${this.selectedKinds.size} of ${kinds.length}` : `all ${kinds.length}`;
      const focused = document.activeElement && document.activeElement.dataset && document.activeElement.dataset.kind;
      const boxes = kinds.map((kind) => {
        const boxId = `${this.uid}-kind-${cssIdent(kind)}`;
        return h("span", { class: "tlw-kind-option" },
          h("input", {
            type: "checkbox", id: boxId, "data-kind": kind,
            checked: !this.selectedKinds || this.selectedKinds.has(kind),
            onchange: (event) => this.toggleKind(kind, event.target.checked),
          }),
          h("label", { for: boxId }, h("span", { class: `tlw-swatch tlw-k-${cssIdent(kind)}`, "aria-hidden": "true" }),
            kindLabel(kind), " ", h("span", { class: "tlw-count" }, `(${counts.get(kind)})`)));
      });
      const all = h("button", { type: "button", class: "tlw-all-kinds", onclick: () => { this.selectedKinds = null; this.render(); } }, "All kinds");
      this.kindsEl.replaceChildren(h("legend", { class: "tlw-sr" }, "Kinds"), ...boxes, all);
      if (focused) {
        const again = this.kindsEl.querySelector(`input[data-kind="${CSS.escape(focused)}"]`);
        if (again) again.focus();
      }
    }

    toggleKind(kind, on) {
      const all = new Set((this.data ? this.data.entries : []).map((e) => e.kind));
      const selected = this.selectedKinds ? new Set(this.selectedKinds) : new Set(all);
      if (on) selected.add(kind); else selected.delete(kind);
      this.selectedKinds = [...all].every((k) => selected.has(k)) ? null : selected;
      this.render();
    }

    // The whole span of the incident's dates, so that bars from different renders line up.
    scale(entries) {
      let start = null;
      let end = null;
      for (const entry of entries) {
        const span = daySpan(entry.occurred);
        if (span === null) continue;
        const { a, b } = span;
        start = start === null ? a : Math.min(start, a);
        end = end === null ? b + 1 : Math.max(end, b + 1);
      }
      if (start === null) return null;
      // At least two weeks wide, centred, so a single day is not one bar across the whole axis.
      const span = end - start;
      const shown = Math.max(span, 14);
      const extra = (shown - span) / 2 + shown * 0.02;
      const from = start - extra;
      const to = end + extra;
      return {
        from, to,
        x: (day) => ((day - from) / (to - from)) * 100,
        width: (a, b) => ((b + 1 - a) / (to - from)) * 100,
      };
    }

    ticks(scale) {
      const first = new Date(Math.ceil(scale.from) * DAY_MS);
      const last = new Date(Math.floor(scale.to) * DAY_MS);
      const spanDays = scale.to - scale.from;
      const ticks = [];
      if (spanDays > 3 * 365) {
        const step = Math.max(1, Math.ceil(spanDays / 365 / 6));
        for (let y = first.getUTCFullYear() + 1; y <= last.getUTCFullYear(); y += step) {
          ticks.push({ day: Date.UTC(y, 0, 1) / DAY_MS, label: String(y) });
        }
      } else if (spanDays > 75) {
        const months = Math.ceil(spanDays / 30);
        const step = [1, 2, 3, 6, 12].find((s) => months / s <= 6) || 12;
        const monthName = new Intl.DateTimeFormat(this.locale, { month: "short", year: "numeric", timeZone: "UTC" });
        let y = first.getUTCFullYear();
        let m = first.getUTCMonth() + 1;
        for (; Date.UTC(y, m, 1) <= last.getTime(); m += 1) {
          const date = new Date(Date.UTC(y, m, 1));
          if (date.getUTCMonth() % step === 0) ticks.push({ day: date.getTime() / DAY_MS, label: monthName.format(date) });
        }
      } else {
        const step = [1, 2, 7, 14].find((s) => spanDays / s <= 8) || 14;
        const dayName = new Intl.DateTimeFormat(this.locale, { day: "numeric", month: "short", timeZone: "UTC" });
        for (let d = Math.ceil(scale.from); d <= scale.to; d += 1) {
          // Day 0 of the epoch was a Thursday, so (d + 3) % 7 === 0 falls on Mondays.
          if ((d + 3) % step === 0) ticks.push({ day: d, label: dayName.format(new Date(d * DAY_MS)) });
        }
      }
      return ticks;
    }

    renderAxis(entries, scale) {
      if (!scale) { this.axisEl.replaceChildren(); this.axisEl.hidden = true; return; }
      this.axisEl.hidden = false;
      const placed = [];
      const laneEnds = [];
      for (const entry of entries) {
        const span = daySpan(entry.occurred);
        if (span === null) continue;
        const { a, b } = onAxis(span, scale);
        const left = scale.x(a);
        const right = left + Math.max(scale.width(a, b), 1.6);
        let lane = laneEnds.findIndex((end) => end <= left);
        if (lane === -1) { lane = laneEnds.length; laneEnds.push(right); } else laneEnds[lane] = right;
        placed.push({ entry, a, b, left, lane });
      }
      const lanes = Math.max(laneEnds.length, 1);
      const marks = placed.map(({ entry, a, b, left, lane }) => {
        const range = b > a;
        const classes = ["tlw-mark", range ? "tlw-mark-range" : "tlw-mark-day", `tlw-k-${cssIdent(entry.kind)}`];
        if (entry.status === "retracted") classes.push("tlw-mark-retracted");
        if (entry.disputed_by.length || entry.disputes.length) classes.push("tlw-mark-disputed");
        return h("a", {
          class: classes.join(" "), href: `#${this.entryId(entry.assertion_id)}`, tabindex: "-1",
          "data-assertion-id": entry.assertion_id,
          title: `${entry.occurred.display || entry.occurred.edtf}: ${entry.headline}`,
          style: { left: `${left}%`, width: range ? `${scale.width(a, b)}%` : "", top: `${lane * 14 + 6}px` },
        });
      });
      const ticks = this.ticks(scale).map((tick, index) =>
        h("span", { class: index % 2 ? "tlw-tick tlw-tick-minor" : "tlw-tick", style: { left: `${scale.x(tick.day)}%` } },
          h("span", { class: "tlw-tick-label" }, tick.label)));
      this.axisEl.style.setProperty("--tlw-lanes", String(lanes));
      const legend = h("p", { class: "tlw-legend" },
        h("span", { class: "tlw-legend-item" }, h("span", { class: "tlw-mark tlw-mark-day tlw-legend-mark" }), "a known day"),
        h("span", { class: "tlw-legend-item" }, h("span", { class: "tlw-mark tlw-mark-range tlw-legend-mark tlw-legend-range" }), "a date known only as a range"),
        h("span", { class: "tlw-legend-item" }, h("span", { class: "tlw-mark tlw-mark-day tlw-mark-disputed tlw-legend-mark" }), "disputed"),
        h("span", { class: "tlw-legend-item" }, h("span", { class: "tlw-mark tlw-mark-range tlw-mark-retracted tlw-legend-mark tlw-legend-range" }), "retracted"));
      this.axisEl.replaceChildren(
        h("div", { class: "tlw-axis-lanes" }, ...marks), h("div", { class: "tlw-axis-ticks" }, ...ticks), legend);
    }

    entryId(assertionId) {
      return `${this.uid}-e-${cssIdent(assertionId)}`;
    }

    entryEl(assertionId) {
      return document.getElementById(this.entryId(assertionId));
    }

    renderEntry(entry, scale) {
      const o = entry.occurred || {};
      const span = daySpan(o);
      const { a, b } = span && scale ? onAxis(span, scale) : { a: span ? span.a : null, b: span ? span.b : null };
      const vague = span !== null && b > a;
      const retracted = entry.status === "retracted";
      const headingId = `${this.entryId(entry.assertion_id)}-h`;
      const classes = ["tlw-entry", `tlw-k-${cssIdent(entry.kind)}`];
      if (vague) classes.push("tlw-vague");
      if (retracted) classes.push("tlw-retracted");
      if (entry.disputed_by.length) classes.push("tlw-is-disputed");
      if (entry.disputes.length) classes.push("tlw-is-disputing");
      if (entry.rank !== "normal") classes.push(`tlw-rank-${entry.rank}`);
      if (this.freshIds.has(entry.assertion_id)) classes.push("tlw-new");
      const key = (part) => `${entry.assertion_id}|${part}`;

      let when;
      if (a === null) {
        when = h("span", { class: "tlw-display" }, o.display || o.edtf || "Date unknown");
      } else if (vague) {
        when = h("span", { class: "tlw-display", title: o.edtf }, o.display || o.edtf);
      } else {
        when = h("time", { class: "tlw-display", datetime: o.earliest, title: o.edtf }, o.display || o.edtf);
      }
      const qualifiers = [];
      if (o.approximate) qualifiers.push("approximate");
      if (o.uncertain) qualifiers.push("uncertain");
      const dateBlock = h("div", { class: "tlw-when" },
        when,
        vague ? h("span", { class: "tlw-range-text" }, span.openStart || span.openEnd
          ? "open-ended: one end is not known"
          : this.rangeNote(o.display, a, b)) : null,
        qualifiers.length ? h("span", { class: "tlw-qualifier" }, qualifiers.join(", ")) : null,
        scale && a !== null ? h("span", { class: "tlw-track", "aria-hidden": "true" },
          h("span", {
            class: `tlw-track-bar ${vague ? "tlw-track-range" : "tlw-track-day"}`,
            style: { left: `${scale.x(a)}%`, width: vague ? `${scale.width(a, b)}%` : "" },
          })) : null);

      const badges = [h("span", { class: `tlw-kind-badge tlw-k-${cssIdent(entry.kind)}` }, kindLabel(entry.kind))];
      if (retracted) badges.push(h("span", { class: "tlw-badge tlw-badge-retracted" }, "Retracted"));
      if (entry.disputed_by.length) badges.push(h("span", { class: "tlw-badge tlw-badge-disputed" }, h("span", { "aria-hidden": "true" }, "⚠ "), "Disputed"));
      if (entry.rank === "preferred") badges.push(h("span", { class: "tlw-badge tlw-badge-preferred" }, "Preferred account"));
      if (entry.rank === "deprecated") badges.push(h("span", { class: "tlw-badge tlw-badge-deprecated" }, "Deprecated"));
      if (entry.revisions && entry.revisions.count) {
        badges.push(h("span", { class: "tlw-badge" }, `Revised ${entry.revisions.count}×`));
      }

      const headline = h("h3", { class: "tlw-headline", id: headingId },
        retracted ? srOnly("Retracted: ") : null,
        retracted ? h("s", {}, entry.headline) : entry.headline);

      const who = entry.attributed_to
        ? h("p", { class: "tlw-attribution" }, "According to ", h("strong", {}, entry.attributed_to))
        : null;
      const actors = entry.actors && entry.actors.length
        ? h("p", { class: "tlw-actors" }, "Involving ", entry.actors.join(", "))
        : null;
      const text = entry.text ? h("p", { class: "tlw-text" }, entry.text) : null;
      const retraction = retracted
        ? h("p", { class: "tlw-retraction" }, h("strong", {}, "Retracted: "), (entry.retraction && entry.retraction.reason) || "")
        : null;

      const sources = h("div", { class: "tlw-sources" },
        h("p", { class: "tlw-sources-label" },
          entry.corroboration === 1 ? "Source" : `Sources · reported by ${entry.corroboration} outlets`),
        h("ul", { class: "tlw-source-list" }, entry.sources.map((source, index) => this.renderSource(source, key(`src${index}`)))),
        entry.first_reported_at
          ? h("p", { class: "tlw-first" }, "First reported ", this.published(entry.first_reported_at))
          : null);

      const disputes = this.renderDisputes(entry, key);
      return h("li", {
        class: classes.join(" "), id: this.entryId(entry.assertion_id), tabindex: "-1",
        "data-assertion-id": entry.assertion_id, "data-kind": entry.kind, "aria-labelledby": headingId,
      },
      h("article", { class: "tlw-card" },
        dateBlock,
        h("div", { class: "tlw-body" },
          h("div", { class: "tlw-main" },
            h("p", { class: "tlw-badges" }, badges),
            headline, who, actors, text, retraction, sources),
          disputes)));
    }

    renderSource(source, key) {
      const href = source.url ? safeUrl(source.url) : null;
      const outlet = href
        ? h("a", { href, target: "_blank", rel: "noopener noreferrer", class: "tlw-outlet", "data-key": key + "a" }, source.outlet)
        : h("span", { class: "tlw-outlet" }, source.outlet);
      const published = source.published_at
        ? h("span", { class: "tlw-published" }, ` · ${this.published(source.published_at)}`)
        : null;
      const quote = source.quote
        ? h("details", { class: "tlw-quote", "data-key": key + "q" },
          h("summary", { "data-key": key + "s" }, "Quote", srOnly(` from ${source.outlet}`)),
          h("blockquote", { cite: href || undefined }, source.quote))
        : null;
      return h("li", { class: "tlw-source" }, outlet, published, quote);
    }

    renderDisputes(entry, key) {
      if (!entry.disputed_by.length && !entry.disputes.length) return null;
      const byId = new Map(this.data.entries.map((e) => [e.assertion_id, e]));
      const notes = new Map();
      for (const note of entry.dispute_notes || []) notes.set(note.by, note.note);
      const card = (otherId, direction) => {
        const other = byId.get(otherId);
        const hidden = other && !this.isShown(other);
        const note = direction === "by" ? notes.get(otherId) : ((other && other.dispute_notes) || []).find((n) => n.by === entry.assertion_id);
        return h("li", { class: "tlw-dispute-card" },
          h("a", {
            class: "tlw-dispute-link", href: `#${this.entryId(otherId)}`, "data-target": otherId,
            "data-key": key(`${direction}:${otherId}`),
          }, other ? other.headline : otherId),
          other ? h("span", { class: "tlw-dispute-meta" },
            [other.attributed_to, other.occurred && (other.occurred.display || other.occurred.edtf)].filter(Boolean).join(" · "),
            other.status === "retracted" ? " · retracted" : "",
            hidden ? " · hidden by the filters" : "") : null,
          note ? h("p", { class: "tlw-dispute-note" }, typeof note === "string" ? note : note.note) : null);
      };
      const block = (label, marker, ids, direction) => ids.length
        ? [h("p", { class: `tlw-dispute-label tlw-dispute-${direction}` }, h("span", { class: "tlw-marker", "aria-hidden": "true" }, marker), label),
          h("ul", { class: "tlw-dispute-list" }, ids.map((id) => card(id, direction)))]
        : [];
      return h("aside", { class: "tlw-disputes", "aria-label": `Contradictions of “${entry.headline}”` },
        block("Disputed by", "⚠", entry.disputed_by, "by"),
        block("Disputes", "⇄", entry.disputes, "of"));
    }

    isShown(entry) {
      return (this.showRetracted || entry.status !== "retracted") && (!this.selectedKinds || this.selectedKinds.has(entry.kind));
    }

    // The display wording ("January 2026", "c. Jan 24") says how the sources put it; the note
    // says what range that means, unless the wording already is that range.
    rangeNote(display, a, b) {
      const start = new Date(a * DAY_MS);
      const end = new Date(b * DAY_MS);
      const text = typeof this.dates.formatRange === "function"
        ? this.dates.formatRange(start, end)
        : `${this.dates.format(start)} – ${this.dates.format(end)}`;
      const plain = (value) => String(value || "").replace(/[\s\u2009\u202f–-]+/g, " ").trim();
      return plain(text) === plain(display) ? "exact day not known" : `sometime ${text}`;
    }

    // -- interaction --

    onListClick(event) {
      const link = event.target.closest(".tlw-dispute-link");
      if (!link) return;
      event.preventDefault();
      this.jumpTo(link.getAttribute("data-target"));
    }

    jumpTo(assertionId) {
      let target = this.entryEl(assertionId);
      if (!target && this.data) {
        // The other side is hidden by a filter: show it rather than leave a dead link.
        const entry = this.data.entries.find((e) => e.assertion_id === assertionId);
        if (!entry) return;
        if (entry.status === "retracted") { this.showRetracted = true; this.retractedBox.checked = true; }
        if (this.selectedKinds) this.selectedKinds.add(entry.kind);
        this.render();
        target = this.entryEl(assertionId);
        if (!target) return;
      }
      target.scrollIntoView({ behavior: reducedMotion() ? "auto" : "smooth", block: "center" });
      target.focus({ preventScroll: true });
      target.classList.remove("tlw-flash");
      void target.offsetWidth; // restart the highlight
      target.classList.add("tlw-flash");
    }

    // Hover or focus on a dispute link lights up both sides; on an entry, its mark on the axis.
    onPoint(event, on) {
      const link = event.target.closest(".tlw-dispute-link");
      if (link) {
        const target = this.entryEl(link.getAttribute("data-target"));
        const own = link.closest(".tlw-entry");
        for (const node of [target, own]) if (node) node.classList.toggle("tlw-linked", on);
      }
      const entry = event.target.closest(".tlw-entry");
      if (entry) {
        const mark = this.axisEl.querySelector(`[data-assertion-id="${CSS.escape(entry.dataset.assertionId)}"]`);
        if (mark) mark.classList.toggle("tlw-mark-active", on);
      }
    }

    focusKey() {
      const active = document.activeElement;
      if (!active || !this.listEl.contains(active)) return null;
      if (active.dataset.key) return { key: active.dataset.key };
      if (active.classList.contains("tlw-entry")) return { entry: active.dataset.assertionId };
      return null;
    }

    restoreFocus(saved) {
      if (!saved) return;
      const node = saved.key
        ? this.listEl.querySelector(`[data-key="${CSS.escape(saved.key)}"]`)
        : this.entryEl(saved.entry);
      if (node) node.focus({ preventScroll: true });
    }

    // -- live updates --

    connect(after) {
      if (this.key) { this.connectWithKey(after); return; }
      if (this.destroyed || typeof EventSource === "undefined") return;
      // after_version covers the gap between the timeline we fetched and the moment the stream
      // opens; once it is open, the browser reconnects by itself with Last-Event-ID, which the
      // server prefers over after_version.
      const source = new EventSource(this.url("/stream", { after_version: String(after) }));
      this.source = source;
      source.addEventListener("open", () => {
        this.reconnectDelay = 1000;
        this.connected = true;
        this.updateLiveStatus();
      });
      source.addEventListener("ready", (event) => {
        this.lastStreamVersion = Math.max(this.lastStreamVersion, Number(event.lastEventId) || 0);
      });
      source.addEventListener("appended", (event) => this.onAppended(JSON.parse(event.data)));
      source.addEventListener("error", () => {
        this.connected = false;
        if (source.readyState === EventSource.CLOSED) {
          // The browser gave up (an HTTP error rather than a dropped connection): retry
          // ourselves, from the last version seen, backing off.
          source.close();
          const timer = setTimeout(() => { this.timers.delete(timer); this.connect(this.lastStreamVersion); }, this.reconnectDelay);
          this.timers.add(timer);
          this.reconnectDelay = Math.min(this.reconnectDelay * 2, RECONNECT_MAX_MS);
        }
        this.updateLiveStatus();
      });
    }

    // The same stream read with fetch(), which can send the key. It is parsed here (readEvents)
    // and reconnected by hand, from the last version seen, backing off as above.
    connectWithKey(after) {
      if (this.destroyed) return;
      const controller = new AbortController();
      const source = { close: () => controller.abort() };
      this.source = source;
      const follow = async () => {
        const response = await fetch(this.url("/stream", { after_version: String(after) }), {
          headers: this.headers({ Accept: "text/event-stream" }), cache: "no-store", signal: controller.signal,
        });
        if (!response.ok || !response.body) throw await httpError(response);
        this.reconnectDelay = 1000;
        this.connected = true;
        this.updateLiveStatus();
        await readEvents(response.body, (message) => {
          if (message.event === "ready") this.lastStreamVersion = Math.max(this.lastStreamVersion, Number(message.id) || 0);
          else if (message.event === "appended") this.onAppended(JSON.parse(message.data));
        });
      };
      follow().then(() => null, (error) => error).then((error) => {
        if (controller.signal.aborted || this.destroyed || this.source !== source) return;
        this.connected = false;
        if (error && (error.status === 401 || error.status === 403)) { this.refuseKey(error); return; }
        const timer = setTimeout(() => { this.timers.delete(timer); this.connectWithKey(this.lastStreamVersion); }, this.reconnectDelay);
        this.timers.add(timer);
        this.reconnectDelay = Math.min(this.reconnectDelay * 2, RECONNECT_MAX_MS);
        this.updateLiveStatus();
      });
    }

    onAppended(event) {
      this.lastStreamVersion = Math.max(this.lastStreamVersion, event.version);
      this.addVersion(event);
      this.updateAsOfControl();
      this.updateLiveStatus();
      const behind = !this.data || event.version > this.data.version;
      if (this.asOfVersion === null && behind) this.refresh().catch((error) => this.fail(error));
    }

    updateLiveStatus() {
      if (!this.live) return;
      if (this.asOfVersion !== null) {
        const newer = this.headVersion - this.asOfVersion;
        this.setStatus(`Showing version ${this.asOfVersion}; ${newer} newer ${newer === 1 ? "event" : "events"} since`);
      } else {
        this.setStatus(this.connected ? "Live: new entries appear as they are recorded" : "Reconnecting…");
      }
      this.el.setAttribute("data-live", this.connected ? "connected" : "reconnecting");
    }

    setStatus(text) {
      if (this.statusEl.textContent !== text) this.statusEl.textContent = text;
    }

    destroy() {
      this.destroyed = true;
      this.stopReplay();
      clearTimeout(this.slideTimer);
      for (const timer of this.timers) clearTimeout(timer);
      if (this.source) this.source.close();
      this.el.replaceChildren();
      this.el.classList.remove("tlw");
    }
  }

  async function httpError(response) {
    let detail = response.statusText;
    try { detail = (await response.json()).detail || detail; } catch (_) { /* not JSON */ }
    const error = new Error(`HTTP ${response.status}: ${detail}`);
    error.status = response.status;
    return error;
  }

  // A text/event-stream body, message by message: the fields the server sends (event, data,
  // id; retry is left to our own backoff) and comments (keep-alives), with any line ending.
  async function readEvents(body, onMessage) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    let message = { event: "", data: [], id: "" };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      // A chunk may end between the \r and \n of one line break: keep a trailing \r for later.
      const cut = buffer.endsWith("\r") ? buffer.length - 1 : buffer.length;
      const lines = buffer.slice(0, cut).split(/\r\n|\r|\n/);
      buffer = lines.pop() + buffer.slice(cut);
      for (const line of lines) {
        if (line === "") {
          if (message.data.length) onMessage({ event: message.event || "message", data: message.data.join("\n"), id: message.id });
          message = { event: "", data: [], id: message.id };
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon === -1 ? line : line.slice(0, colon);
        let text = colon === -1 ? "" : line.slice(colon + 1);
        if (text.startsWith(" ")) text = text.slice(1);
        if (field === "event") message.event = text;
        else if (field === "data") message.data.push(text);
        else if (field === "id") message.id = text;
      }
    }
  }

  // sessionStorage: this tab only, gone when it closes, never sent to any server by itself. A
  // browser that refuses storage (a third-party frame, say) keeps the key in memory instead.
  function storageName(api) {
    return `timeline-widget-key ${api || global.location.origin}`;
  }

  function storedKey(api) {
    try { return global.sessionStorage.getItem(storageName(api)); } catch (_) { return null; }
  }

  function storeKey(api, key) {
    try {
      if (key) global.sessionStorage.setItem(storageName(api), key);
      else global.sessionStorage.removeItem(storageName(api));
    } catch (_) { /* storage refused: the key lives in this page only */ }
  }

  function defaultApi() {
    if (SCRIPT && SCRIPT.src) return new URL(SCRIPT.src, document.baseURI).origin;
    return "";
  }

  function optionsFrom(element) {
    const d = element.dataset;
    return {
      api: d.api !== undefined ? d.api : undefined,
      incident: d.incident,
      kinds: d.kinds ? d.kinds.split(",").map((k) => k.trim()).filter(Boolean) : undefined,
      asOfVersion: d.asOfVersion !== undefined && d.asOfVersion !== "" ? Number(d.asOfVersion) : undefined,
      live: d.live !== "false",
      showRetracted: d.showRetracted !== "false",
      locale: d.locale,
      needsKey: d.needsKey === "true",
    };
  }

  function mountAll() {
    for (const element of document.querySelectorAll("[data-timeline-widget]")) {
      if (!element.timelineWidget) element.timelineWidget = mount(element, optionsFrom(element));
    }
  }

  function mount(element, options) {
    if (element.timelineWidget) element.timelineWidget.destroy();
    const widget = new Widget(element, options);
    element.timelineWidget = widget;
    return widget;
  }

  // In an iframe, tell the embedding page how tall the widget is, so it can size the frame.
  function reportHeight() {
    if (global.parent === global || typeof ResizeObserver === "undefined") return;
    new ResizeObserver(() => {
      global.parent.postMessage({ type: "timeline-widget:resize", height: document.documentElement.scrollHeight }, "*");
    }).observe(document.body);
  }

  global.TimelineWidget = { mount, mountAll };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", () => { mountAll(); reportHeight(); });
  } else {
    mountAll();
    reportHeight();
  }
})(window);
