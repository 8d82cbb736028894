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
 * What a reader sees, top to bottom: the incident (title, place, linked incidents, summary); the
 * replay control, by either clock (as recorded: version by version; as reported: publication
 * time by publication time) and the filters; an overview (every entry labelled on a time scale
 * that zooms and pans, far outliers behind an axis break); and the entries, collapsed to a line of
 * facts and the headline, each opening on demand to its text, sources, revisions and disputes.
 *
 * The element receives a "timelinewidget:render" event after every render, with
 * detail {version, asOfVersion, headVersion, shown, clock, reportedAsOf}.
 */
(function (global) {
  "use strict";

  const SCRIPT = document.currentScript;
  const DAY_MS = 86400000;
  const RECONNECT_MAX_MS = 30000;
  // The overview, in CSS pixels: one lane per row of labelled items.
  const LANE_PX = 20;
  const LABEL_GAP_PX = 10;
  // Three or more entries with the very same vague range are drawn as one group, opened on demand.
  const GROUP_MIN = 3;
  // A stretch of empty time is folded behind an axis break when it is longer than this share of
  // the whole span (and than BREAK_MIN_DAYS): one entry from 1998 must not squeeze a 2026 story.
  const BREAK_SHARE = 0.25;
  const BREAK_MIN_DAYS = 60;
  const BREAK_U = 0.04; // the width of a break, as a share of the axis
  const MIN_SEGMENT_SHARE = 0.14;
  // Inside a cluster, a stretch only ranges longer than LONG_RANGE_DAYS cover is drawn at
  // COMPRESSED_SCALE of the scale of the rest (core stretches closer than CORE_GAP_DAYS join up).
  const LONG_RANGE_DAYS = 45;
  const CORE_GAP_DAYS = 45;
  const COMPRESSED_SCALE = 0.1;
  const FIELD_NAMES = { occurred: "date", headline: "headline", text: "text", kind: "kind", attributed_to: "attribution" };
  const RELATIONS = { follows: "Follows", part_of: "Part of", response_to: "In response to", related: "Related to" };
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

  function isoDay(day) {
    return new Date(Math.round(day) * DAY_MS).toISOString().slice(0, 10);
  }

  // The API gives an open interval end ("since Jan 26", "until Feb 1") as the first or last
  // representable day; draw it to the edge of the axis instead of stretching the axis to year 9999.
  const OPEN_START = "0001-01-01";
  const OPEN_END = "9999-12-31";

  function daySpan(occurred) {
    if (!occurred) return null;
    const a = occurred.earliest === OPEN_START ? null : dayNumber(occurred.earliest);
    const b = occurred.latest === OPEN_END ? null : dayNumber(occurred.latest);
    if (a === null && b === null) return null;
    return { a: a ?? b, b: b ?? a, openStart: a === null, openEnd: b === null };
  }

  function cssIdent(text) {
    return String(text).replace(/[^A-Za-z0-9_-]/g, (c) => "_" + c.charCodeAt(0).toString(16));
  }

  function reducedMotion() {
    return global.matchMedia && global.matchMedia("(prefers-reduced-motion: reduce)").matches;
  }

  function plural(count, one, many) {
    return `${count} ${count === 1 ? one : many || one + "s"}`;
  }

  // When a publication time certainly was public: a day ("2026-02-02") from the end of that day,
  // as the API's reported_as_of reads it; a time from that instant. Never before it could have been.
  function publicFrom(text) {
    const day = /^(\d{4}-\d{2}-\d{2})(Z|[+-]\d{2}:\d{2})?$/.exec(text || "");
    if (day) {
      const start = Date.parse(`${day[1]}T00:00:00${day[2] && day[2] !== "Z" ? day[2] : "Z"}`);
      return start + DAY_MS - 1;
    }
    const moment = Date.parse(text);
    return Number.isNaN(moment) ? null : moment;
  }

  let measurer = null;
  function textWidth(text, font) {
    if (!measurer) measurer = document.createElement("canvas").getContext("2d");
    if (!measurer) return String(text).length * 7;
    measurer.font = font;
    return measurer.measureText(String(text)).width;
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
      this.clock = "recorded"; // or "reported": which time the as-of control moves through
      // With the reported clock, the publication moment shown (ms), null = now. A moment, not an
      // index: an old report loaded meanwhile adds a step before it without moving the view.
      this.reportedAt = null;
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
      this.expanded = new Set(); // what the reader opened: "<assertion id>|details", "|disputes", "|revisions"
      this.openGroups = new Set(); // overview groups opened, by "<first day>/<last day>"
      this.grouping = true;
      this.view = { u0: 0, u1: 1 }; // the overview's visible window, on the folded axis (0..1)
      this.axis = null;
      this.linkedTitles = new Map();
      this.latestIncident = null;
      this.request = 0;
      this.timers = new Set();
      this.source = null;
      this.reconnectDelay = 1000;
      this.destroyed = false;
      this.dates = new Intl.DateTimeFormat(this.locale, { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
      this.moments = new Intl.DateTimeFormat(this.locale, {
        day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", timeZone: "UTC",
      });
      this.dayMonth = new Intl.DateTimeFormat(this.locale, { day: "numeric", month: "short", timeZone: "UTC" });
      this.monthYear = new Intl.DateTimeFormat(this.locale, { month: "short", year: "numeric", timeZone: "UTC" });
      this.longMonth = new Intl.DateTimeFormat(this.locale, { month: "long", year: "numeric", timeZone: "UTC" });
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

    dayText(day) {
      return this.dates.format(new Date(day * DAY_MS));
    }

    rangeText(a, b) {
      const start = new Date(a * DAY_MS);
      const end = new Date(b * DAY_MS);
      return typeof this.dates.formatRange === "function"
        ? this.dates.formatRange(start, end)
        : `${this.dates.format(start)} – ${this.dates.format(end)}`;
    }

    // An EDTF value as words, for the earlier value of a revised date (the API gives the EDTF only).
    edtfText(edtf) {
      const text = String(edtf || "");
      const one = (part) => {
        const m = /^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?([~?%]?)$/.exec(part);
        if (!m) return null;
        const [, y, mo, d, q] = m;
        const prefix = q === "~" || q === "%" ? "c. " : "";
        const suffix = q === "?" || q === "%" ? "?" : "";
        if (d) return { a: dayNumber(`${y}-${mo}-${d}`), b: dayNumber(`${y}-${mo}-${d}`), text: prefix + this.dates.format(new Date(Date.UTC(+y, +mo - 1, +d))) + suffix };
        if (mo) return { text: prefix + this.longMonth.format(new Date(Date.UTC(+y, +mo - 1, 1))) + suffix };
        return { text: prefix + y + suffix };
      };
      if (text.includes("/")) {
        const [left, right] = text.split("/");
        const a = left && left !== ".." ? one(left) : null;
        const b = right && right !== ".." ? one(right) : null;
        if (a && b && a.a !== undefined && b.a !== undefined && !/[~?%]/.test(text)) return this.rangeText(a.a, b.b);
        if (a && b) return `${a.text} – ${b.text}`;
        if (a) return `since ${a.text}`;
        if (b) return `until ${b.text}`;
        return text;
      }
      const single = one(text);
      return single ? single.text : text;
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
      if (this.resizer) { this.resizer.disconnect(); this.resizer = null; }
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
      this.headerSignature = null; // new elements: nothing rendered into them yet
      this.kindsSignature = null;
      this.titleEl = h("h2", { class: "tlw-title", id: id("title") }, this.incident);
      this.placeEl = h("p", { class: "tlw-place", hidden: true });
      this.linksEl = h("p", { class: "tlw-links", hidden: true });
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
      this.latestBtn = h("button", { type: "button", class: "tlw-latest", onclick: () => this.setCut(null) }, "Latest");
      this.replayBtn = h("button", { type: "button", class: "tlw-replay", "aria-pressed": "false", onclick: () => this.toggleReplay() }, "Replay");
      this.momentEl = h("p", { class: "tlw-moment", id: id("moment") });
      const clockOption = (value, text, hint) => h("label", { class: "tlw-clock-option", title: hint },
        h("input", {
          type: "radio", name: id("clock"), value, checked: value === this.clock,
          onchange: (event) => { if (event.target.checked) this.setClock(value); },
        }), text);
      this.clockEl = h("fieldset", { class: "tlw-clock", "aria-describedby": id("clock-hint") },
        h("legend", { class: "tlw-clock-legend" }, "Replay by"),
        clockOption("recorded", "As recorded", "Step through the record in the order it was written"),
        clockOption("reported", "As reported", "Step through what had been published by each publication time"),
        h("span", { class: "tlw-sr", id: id("clock-hint") },
          "As recorded steps through the record in the order it was written; as reported, through what had been published by each publication time."));

      this.kindsEl = h("fieldset", { class: "tlw-kinds" }, h("legend", { class: "tlw-sr" }, "Kinds"));
      this.kindsSummary = h("span", { class: "tlw-kinds-summary" }, "all");
      // Open on a wide screen; on a phone the list of kinds would push the timeline off screen.
      this.filterPanel = h("details", { class: "tlw-filter-panel", open: this.el.clientWidth >= 640 },
        h("summary", { class: "tlw-control-label" }, "Kinds: ", this.kindsSummary), this.kindsEl);
      this.retractedBox = h("input", {
        type: "checkbox", id: id("retracted"), checked: this.showRetracted,
        onchange: () => { this.showRetracted = this.retractedBox.checked; this.render(); },
      });

      this.buildOverview();
      this.listEl = h("ol", { class: "tlw-list", "aria-labelledby": id("title") });
      this.emptyEl = h("p", { class: "tlw-empty", hidden: true });

      const controls = h("div", { class: "tlw-controls" },
        h("div", { class: "tlw-asof", role: "group", "aria-label": "Replay how the timeline looked at an earlier moment" },
          this.clockEl,
          h("div", { class: "tlw-asof-head" }, h("label", { for: id("asof"), class: "tlw-control-label" }, "As of"), this.replayBtn),
          h("div", { class: "tlw-asof-row" }, this.earlierBtn, this.slider, this.laterBtn, this.latestBtn),
          this.momentEl),
        h("div", { class: "tlw-filters" },
          this.filterPanel,
          h("p", { class: "tlw-toggle" }, this.retractedBox, " ", h("label", { for: id("retracted") }, "Show retracted entries"))));

      this.el.replaceChildren(
        h("section", { class: "tlw-root", "aria-labelledby": id("title") },
          h("header", { class: "tlw-header" }, this.titleEl, this.placeEl, this.linksEl, this.summaryEl,
            h("div", { class: "tlw-header-row" }, this.moreBtn, this.statusEl)),
          controls, this.errorEl, this.announceEl, this.overviewEl, this.emptyEl, this.listEl));

      this.listEl.addEventListener("click", (event) => this.onListClick(event));
      for (const type of ["mouseover", "focusin"]) this.listEl.addEventListener(type, (e) => this.onPoint(e, true));
      for (const type of ["mouseout", "focusout"]) this.listEl.addEventListener(type, (e) => this.onPoint(e, false));
      if (typeof ResizeObserver !== "undefined") {
        // The overview is laid out in pixels (labels are measured): lay it out again when its
        // width changes. Only the width: a new height is the layout's own doing.
        this.resizer = new ResizeObserver(() => {
          const width = this.lanesEl.clientWidth;
          if (width && width !== this.laidOutWidth) this.layoutAxis();
        });
        this.resizer.observe(this.overviewEl);
      }
    }

    url(path, params) {
      const query = new URLSearchParams(params || {}).toString();
      return `${this.api}/v1/incidents/${encodeURIComponent(this.incident)}${path}${query ? "?" + query : ""}`;
    }

    async getJson(url, cache = "default") {
      const response = await fetch(url, { headers: this.headers({ Accept: "application/json" }), cache });
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

    // -- versions and publication times: what the as-of control offers --

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
      this.times = null;
      return true;
    }

    // The distinct publication times of the incident's events, earliest first, each with the
    // events first public then: the steps of the "as reported" clock. Old reports loaded today
    // take their place by when they were published, not by when they were typed in.
    publicationTimes() {
      if (this.times) return this.times;
      const byMoment = new Map();
      for (const entry of [...this.versions.values()].sort((x, y) => x.version - y.version)) {
        const at = publicFrom(entry.reported_at || entry.recorded_at);
        if (at === null) continue;
        if (!byMoment.has(at)) byMoment.set(at, { at, text: entry.reported_at || entry.recorded_at, events: [] });
        byMoment.get(at).events.push(entry);
      }
      this.times = [...byMoment.values()].sort((x, y) => x.at - y.at);
      return this.times;
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

    // The as-of control's range: versions (as recorded) or publication times (as reported).
    steps() {
      return this.clock === "reported" ? Math.max(this.publicationTimes().length, 1) : Math.max(this.headVersion, 1);
    }

    currentStep() {
      const cut = this.cut();
      return cut === null ? this.steps() : Math.min(cut, this.steps());
    }

    // The cut-off as a step of the current clock (a version, or a 1-based publication time), null = now.
    cut() {
      if (this.clock === "recorded") return this.asOfVersion;
      if (this.reportedAt === null) return null;
      const index = this.publicationTimes().findIndex((time) => time.at === this.reportedAt);
      return index === -1 ? null : index + 1;
    }

    reportedTime() {
      return this.reportedAt === null ? null : this.publicationTimes().find((time) => time.at === this.reportedAt) || null;
    }

    updateAsOfControl() {
      const max = this.steps();
      this.slider.max = String(max);
      if (!this.slideTimer) this.slider.value = String(this.currentStep());
      const unit = this.clock === "reported" ? "publication time" : "version";
      this.earlierBtn.lastChild.textContent = `Earlier ${unit}`;
      this.laterBtn.lastChild.textContent = `Later ${unit}`;
      this.describeMoment(Number(this.slider.value));
    }

    describeMoment(step) {
      const max = this.steps();
      const latest = step >= max && this.cut() === null;
      let strong;
      let when = "";
      let what = "";
      let valuetext;
      if (this.clock === "reported") {
        const time = this.publicationTimes()[step - 1];
        const by = time ? this.published(time.text) : "now";
        strong = latest ? `Latest (reported by ${by})` : `Reported by ${by}`;
        when = `publication time ${step} of ${max}`;
        if (time) {
          const shown = time.events.slice(0, 2).map((e) => this.describeVersion(e));
          const more = time.events.length - shown.length;
          what = `First public then: ${shown.join("; ")}${more > 0 ? `; and ${plural(more, "more event")}` : ""}`;
        }
        valuetext = `Reported by ${by}, publication time ${step} of ${max}`;
      } else {
        const entry = this.versions.get(step);
        when = entry
          ? `recorded ${this.moments.format(new Date(entry.recorded_at))} UTC, reported ${this.published(entry.reported_at)}`
          : "";
        what = entry ? this.describeVersion(entry) : "";
        strong = step >= max ? `Latest (version ${step})` : `Version ${step} of ${max}`;
        valuetext = `Version ${step} of ${max}${entry ? ", " + when : ""}`;
      }
      this.slider.setAttribute("aria-valuetext", valuetext);
      this.momentEl.replaceChildren(
        h("strong", {}, strong), when ? ` · ${when}` : "", what ? h("span", { class: "tlw-moment-what" }, what) : "");
      this.latestBtn.disabled = this.cut() === null;
      this.earlierBtn.disabled = step <= 1;
      this.laterBtn.disabled = step >= max;
      this.el.setAttribute("data-clock", this.clock);
      this.el.setAttribute("data-as-of", latest || (this.clock === "recorded" && step >= max) ? "now"
        : this.clock === "reported" ? `reported ${step} of ${max}` : `version ${step} of ${max}`);
    }

    onSlide(commit) {
      this.stopReplay();
      const step = Number(this.slider.value);
      this.describeMoment(step);
      clearTimeout(this.slideTimer);
      const apply = () => {
        this.slideTimer = null;
        this.setCut(step >= this.steps() ? null : step);
      };
      if (commit) apply();
      else this.slideTimer = setTimeout(apply, 150);
    }

    step(delta) {
      this.stopReplay();
      const next = Math.max(1, Math.min(this.steps(), this.currentStep() + delta));
      this.setCut(next >= this.steps() ? null : next);
    }

    // Kept for embedders that called it: the as-of version, with the recorded clock.
    setAsOf(version) {
      if (this.clock !== "recorded") this.setClock("recorded");
      this.setCut(version);
    }

    setCut(step) {
      if (step === this.cut()) { this.updateAsOfControl(); return; }
      if (this.clock === "reported") this.reportedAt = step === null ? null : this.publicationTimes()[step - 1].at;
      else this.asOfVersion = step;
      this.knownIds = null; // moving through time is not "new" news
      this.updateAsOfControl();
      this.refresh().catch((error) => this.fail(error));
      this.updateLiveStatus();
    }

    setClock(clock) {
      if (clock === this.clock) return;
      this.stopReplay();
      this.clock = clock;
      this.asOfVersion = null;
      this.reportedAt = null;
      this.knownIds = null;
      for (const radio of this.clockEl.querySelectorAll("input")) radio.checked = radio.value === clock;
      this.updateAsOfControl();
      this.refresh().catch((error) => this.fail(error));
      this.updateLiveStatus();
    }

    toggleReplay() {
      if (this.replayTimer) { this.stopReplay(); return; }
      this.replayBtn.setAttribute("aria-pressed", "true");
      this.replayBtn.textContent = "Stop";
      let step = this.cut() === null || this.cut() >= this.steps() ? 1 : this.cut();
      this.setCut(step >= this.steps() ? null : step);
      this.replayTimer = setInterval(() => {
        step += 1;
        this.setCut(step >= this.steps() ? null : step);
        if (step >= this.steps()) this.stopReplay();
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
          // history: each revision's earlier values, for "Revised" to say what changed.
          const params = { include_retracted: "true", history: "true" };
          if (this.clock === "recorded" && this.asOfVersion !== null) params.as_of_version = String(this.asOfVersion);
          const time = this.clock === "reported" ? this.reportedTime() : null;
          if (time) params.reported_as_of = time.text;
          // Public timelines may be kept for max-age (Cache-Control): the first load may take the
          // browser's copy, every later one (after a live append, a replay step) revalidates it
          // with the ETag, so what the stream announced is shown at once (a 304 when unchanged).
          const data = await this.getJson(this.url("/timeline", params), this.loadedOnce ? "no-cache" : "default");
          this.loadedOnce = true;
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
      if (this.knownIds && this.cut() === null) {
        const fresh = [...ids].filter((id) => !this.knownIds.has(id));
        for (const id of fresh) this.freshIds.add(id);
        if (fresh.length) {
          const names = data.entries.filter((e) => fresh.includes(e.assertion_id)).map((e) => e.headline);
          this.announceEl.textContent = `${fresh.length === 1 ? "New entry" : fresh.length + " new entries"}: ${names.join("; ")}`;
        }
      }
      this.knownIds = ids;
      this.data = data;
      if (this.cut() === null || !this.latestIncident) this.latestIncident = data.incident;
      this.render();
    }

    isShown(entry) {
      return (this.showRetracted || entry.status !== "retracted") && (!this.selectedKinds || this.selectedKinds.has(entry.kind));
    }

    render() {
      if (!this.data) return;
      const data = this.data;
      this.renderHeader(data.incident || {});
      this.renderKinds(data.entries);

      const shown = data.entries.filter((e) => this.isShown(e));
      this.shown = shown;
      this.byId = new Map(data.entries.map((e) => [e.assertion_id, e]));
      const focusKey = this.focusKey();
      const open = new Set([...this.listEl.querySelectorAll("details[open][data-key]")].map((d) => d.dataset.key));
      this.setAxis(data.entries);
      this.layoutAxis();
      this.listEl.replaceChildren(...shown.map((entry) => this.renderEntry(entry)));
      for (const details of this.listEl.querySelectorAll("details[data-key]")) {
        if (open.has(details.dataset.key)) details.open = true;
      }
      this.restoreFocus(focusKey);

      this.emptyEl.hidden = shown.length > 0;
      this.emptyEl.textContent = data.entries.length
        ? "No entries match the filters."
        : this.clock === "reported"
          ? "Nothing about this incident had been reported by then."
          : "Nothing had been recorded about this incident at this version.";
      this.updateAsOfControl();
      this.el.setAttribute("data-state", "ready");
      this.el.setAttribute("data-version", String(data.version));
      this.el.setAttribute("data-reported-as-of", (data.cut_off && data.cut_off.reported_as_of) || "");
      this.el.dispatchEvent(new CustomEvent("timelinewidget:render", {
        detail: {
          version: data.version, asOfVersion: this.asOfVersion, headVersion: this.headVersion, shown: shown.length,
          clock: this.clock, reportedAsOf: (data.cut_off && data.cut_off.reported_as_of) || null,
        },
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

    // The incident: its title, where it happened and the incidents it is linked to. Replayed to a
    // moment before the incident itself was reported, the fold has none of these: keep the latest.
    renderHeader(cutIncident) {
      const incident = cutIncident.title ? cutIncident : (this.latestIncident || cutIncident);
      this.titleEl.textContent = incident.title || this.incident;
      this.summaryEl.textContent = incident.summary || "";
      this.summaryEl.hidden = !incident.summary;
      // "More" only when the clamped summary actually hides something.
      const clamped = this.summaryEl.classList.contains("tlw-clamped");
      this.moreBtn.hidden = !incident.summary || (clamped && this.summaryEl.scrollHeight <= this.summaryEl.clientHeight + 1);

      // Built again only when it changed: a live update must not take the focus off a link here.
      const links = incident.links || [];
      const signature = JSON.stringify([incident.location, links, links.map((l) => this.linkedTitles.get(l.incident_id))]);
      if (signature === this.headerSignature) return;
      this.headerSignature = signature;
      const place = incident.location && incident.location.name;
      this.placeEl.hidden = !place;
      if (place) {
        const { lat, lon } = incident.location;
        const map = Number.isFinite(lat) && Number.isFinite(lon)
          ? h("a", {
            class: "tlw-map", target: "_blank", rel: "noopener noreferrer",
            href: `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=16/${lat}/${lon}`,
          }, "map", srOnly(` of ${place}`))
          : null;
        this.placeEl.replaceChildren(h("span", { class: "tlw-place-label" }, "Where: "), place, map ? " · " : null, map);
      }

      this.linksEl.hidden = !links.length;
      if (links.length) {
        this.loadLinkedTitles(links);
        this.linksEl.replaceChildren(...links.flatMap((link, index) => [
          ...(index ? [h("span", { class: "tlw-sep", "aria-hidden": "true" }, " · ")] : []),
          h("span", { class: "tlw-link-relation" }, `${RELATIONS[link.relation] || kindLabel(link.relation)}: `),
          h("a", { class: "tlw-linked-incident", href: `${this.api}/widget/incidents/${encodeURIComponent(link.incident_id)}` },
            this.linkedTitles.get(link.incident_id) || link.incident_id),
        ]));
      }
    }

    // The titles of linked incidents, from the incident list (one request, and no 404 for a link
    // to an incident this store does not hold: that one keeps its id).
    loadLinkedTitles(links) {
      if (this.linkedLoading || links.every((link) => this.linkedTitles.has(link.incident_id))) return;
      this.linkedLoading = this.getJson(`${this.api}/v1/incidents`).then((body) => {
        for (const incident of body.incidents || []) if (incident.title) this.linkedTitles.set(incident.id, incident.title);
        for (const link of links) if (!this.linkedTitles.has(link.incident_id)) this.linkedTitles.set(link.incident_id, link.incident_id);
        if (this.data && !this.destroyed) this.renderHeader(this.data.incident || {});
      }, () => null).finally(() => { this.linkedLoading = null; });
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

    // -- the overview: every entry labelled on a time scale that zooms and pans --
    //
    // The axis is "folded": the incident's dates are gathered into clusters, and a stretch of
    // empty years between two clusters becomes a narrow break, so one entry from 1998 sits at the
    // left behind a break instead of squeezing a 2026 story against the right edge. Inside a
    // cluster, a stretch covered only by long vague ranges ("2025") is drawn compressed, and marked
    // so on the axis line. Positions on the folded axis run from 0 to 1 (u), piecewise linear in
    // days; the view is the window of u shown. Items are packed greedily into lanes by their drawn
    // extent (mark and label, measured in pixels), exact days first; entries sharing the very same
    // vague range are drawn as one thin group that opens on demand.

    buildOverview() {
      const id = (name) => `${this.uid}-${name}`;
      const tool = (cls, glyph, name, action) => h("button", {
        type: "button", class: `tlw-tool ${cls}`, title: name,
        onclick: (event) => { if (event.currentTarget.getAttribute("aria-disabled") !== "true") action(); },
      }, glyph ? h("span", { "aria-hidden": "true" }, glyph) : null, glyph ? srOnly(name) : name);
      this.zoomOutBtn = tool("tlw-zoom-out", "−", "Zoom out", () => this.zoomBy(0.5));
      this.zoomInBtn = tool("tlw-zoom-in", "+", "Zoom in", () => this.zoomBy(2));
      this.panLeftBtn = tool("tlw-pan-left", "‹", "Move earlier", () => this.panBy(-0.3));
      this.panRightBtn = tool("tlw-pan-right", "›", "Move later", () => this.panBy(0.3));
      this.fitBtn = tool("tlw-fit", null, "Show all", () => this.setView(0, 1));
      this.groupBtn = h("button", {
        type: "button", class: "tlw-tool tlw-group-toggle", "aria-pressed": String(this.grouping),
        title: "Draw entries that share the very same vague range as one group", "aria-label": "Group same ranges",
        onclick: () => {
          this.grouping = !this.grouping;
          this.groupBtn.setAttribute("aria-pressed", String(this.grouping));
          this.layoutAxis();
        },
      }, "Group ranges");
      this.spanEl = h("p", { class: "tlw-ov-span", id: id("ov-span"), "aria-live": "polite" });
      this.lanesEl = h("div", { class: "tlw-axis-lanes", "aria-hidden": "true" });
      this.ticksEl = h("div", { class: "tlw-axis-ticks", "aria-hidden": "true" });
      const legend = h("p", { class: "tlw-legend", "aria-hidden": "true" },
        h("span", { class: "tlw-legend-item" }, h("span", { class: "tlw-mark tlw-mark-day tlw-legend-mark" }), "a known day"),
        h("span", { class: "tlw-legend-item" }, h("span", { class: "tlw-mark tlw-mark-range tlw-legend-mark tlw-legend-range" }), "sometime within"),
        h("span", { class: "tlw-legend-item" }, h("span", { class: "tlw-mark tlw-mark-day tlw-legend-mark tlw-legend-disputed" }), "disputed"),
        h("span", { class: "tlw-legend-item tlw-legend-folded" }, h("span", { class: "tlw-legend-break" }), "years folded"),
        h("span", { class: "tlw-legend-item tlw-legend-squeezed" }, h("span", { class: "tlw-legend-compressed" }), "compressed: vague dates only"),
        h("span", { class: "tlw-legend-item tlw-legend-keys" }, "Keys: + − zoom, ← → move, 0 all"));
      this.overviewEl = h("section", {
        class: "tlw-overview tlw-axis", tabindex: "0", "aria-labelledby": id("ov-title"), "aria-describedby": `${id("ov-span")} ${id("ov-help")}`,
        onkeydown: (event) => this.onOverviewKey(event),
      },
        h("div", { class: "tlw-ov-bar" },
          h("h3", { class: "tlw-ov-title", id: id("ov-title") }, "Overview"),
          this.spanEl,
          h("div", { class: "tlw-ov-tools", role: "toolbar", "aria-label": "Time scale" },
            this.zoomOutBtn, this.zoomInBtn, this.panLeftBtn, this.panRightBtn, this.fitBtn, this.groupBtn)),
        h("div", { class: "tlw-ov-frame" }, this.lanesEl, this.ticksEl),
        legend,
        h("p", { class: "tlw-sr", id: id("ov-help") },
          "A picture of the entries below on a time scale. Plus and minus zoom, the arrow keys move earlier or later, 0 shows everything."));
      this.lanesEl.addEventListener("click", (event) => this.onLanesClick(event));
      this.lanesEl.addEventListener("pointerdown", (event) => this.onDragStart(event));
    }

    buildAxisModel(entries) {
      const intervals = [];
      for (const entry of entries) {
        const span = daySpan(entry.occurred);
        if (span) intervals.push([span.a, span.b + 1]); // an open end counts as its known day
      }
      if (!intervals.length) return null;
      intervals.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
      const blocks = [];
      for (const [a, b] of intervals) {
        const last = blocks[blocks.length - 1];
        if (last && a <= last.to) { last.to = Math.max(last.to, b); last.count += 1; } else blocks.push({ from: a, to: b, count: 1 });
      }
      // Clusters: blocks of time with entries, apart by less than a foldable stretch of nothing.
      const whole = blocks[blocks.length - 1].to - blocks[0].from;
      const clusters = [{ ...blocks[0] }];
      for (const block of blocks.slice(1)) {
        const last = clusters[clusters.length - 1];
        const gap = block.from - last.to;
        if (gap > BREAK_MIN_DAYS && gap > whole * BREAK_SHARE) clusters.push({ ...block });
        else { last.to = Math.max(last.to, block.to); last.count += block.count; }
      }
      // A cluster's width follows how many entries it holds (an outlier gets a narrow one).
      const total = clusters.reduce((n, c) => n + c.count, 0);
      const shares = clusters.map((c) => (clusters.length > 1 ? Math.max(MIN_SEGMENT_SHARE, c.count / total) : 1));
      const sum = shares.reduce((a, b) => a + b, 0);
      const room = 1 - BREAK_U * (clusters.length - 1);
      const segments = [];
      let u = 0;
      clusters.forEach((c, i) => {
        const pieces = this.clusterPieces(c, intervals.filter(([a, b]) => a >= c.from && b <= c.to));
        const weight = pieces.reduce((n, piece) => n + piece.weight, 0);
        const width = (shares[i] / sum) * room;
        for (const piece of pieces) {
          const w = (piece.weight / weight) * width;
          segments.push({ ...piece, u0: u, w, u1: u + w, cluster: i });
          u += w;
        }
        c.u1 = u;
        u += BREAK_U;
      });
      const breaks = clusters.slice(1).map((c, i) => ({
        u0: clusters[i].u1, u1: segments.find((s) => s.cluster === i + 1).u0, from: clusters[i].to, to: c.from,
      }));
      return { segments, breaks, signature: segments.map((s) => `${s.from}:${s.to}:${s.w.toFixed(4)}`).join(",") };
    }

    // A cluster's pieces of axis. Where the dates are close (days, weeks, a month: the "core")
    // the scale is linear; a stretch that only long vague ranges cover ("2025", "Sep – Dec") is
    // drawn compressed, so that two year-long ranges do not squeeze a story of weeks.
    clusterPieces(cluster, intervals) {
      const span = cluster.to - cluster.from;
      const shown = Math.max(span, 14);
      const extra = (shown - span) / 2 + shown * 0.02; // a little room at the ends; a single day at least two weeks
      const from = cluster.from - extra;
      const to = cluster.to + extra;
      const core = [];
      for (const [a, b] of intervals.filter(([a, b]) => b - a <= LONG_RANGE_DAYS)) {
        const last = core[core.length - 1];
        if (last && a <= last.to + CORE_GAP_DAYS) last.to = Math.max(last.to, b); else core.push({ from: a, to: b });
      }
      if (!core.length || (core.length === 1 && core[0].from <= cluster.from && core[0].to >= cluster.to)) {
        return [{ from, to, weight: 1, compressed: false }];
      }
      // Each core stretch at least two weeks across, taken from the compressed stretches beside it.
      for (const piece of core) {
        const need = Math.max(0, 14 - (piece.to - piece.from)) / 2;
        piece.from -= need;
        piece.to += need;
      }
      // The room at the ends belongs to a core stretch that reaches them.
      if (core[0].from <= cluster.from) core[0].from = from;
      if (core[core.length - 1].to >= cluster.to) core[core.length - 1].to = to;
      const pieces = [];
      let cursor = from;
      for (const piece of core) {
        const start = Math.max(piece.from, cursor);
        if (start > cursor + 0.5) pieces.push({ from: cursor, to: start, compressed: true });
        pieces.push({ from: Math.max(start, cursor), to: Math.min(piece.to, to), compressed: false });
        cursor = Math.min(piece.to, to);
      }
      if (cursor < to - 0.5) pieces.push({ from: cursor, to, compressed: true });
      else pieces[pieces.length - 1].to = to;
      for (const piece of pieces) {
        const days = piece.to - piece.from;
        piece.weight = piece.compressed ? Math.max(days * COMPRESSED_SCALE, 7) : days;
      }
      return pieces.filter((piece) => piece.to > piece.from);
    }

    setAxis(entries) {
      const model = this.buildAxisModel(entries);
      if (!model || !this.axis || model.signature !== this.axis.signature) this.view = { u0: 0, u1: 1 };
      this.axis = model;
    }

    // A day (a whole number, or a fraction for the middle of one) on the folded axis, 0..1.
    uOf(day) {
      const segments = this.axis.segments;
      for (let i = 0; i < segments.length; i += 1) {
        const s = segments[i];
        if (day <= s.to) {
          if (day >= s.from) return s.u0 + ((day - s.from) / (s.to - s.from)) * s.w;
          return i === 0 ? 0 : (segments[i - 1].u1 + s.u0) / 2;
        }
      }
      return 1;
    }

    // The day at a point of the folded axis; in a break, the nearer edge of it.
    dayOf(u) {
      const segments = this.axis.segments;
      for (let i = 0; i < segments.length; i += 1) {
        const s = segments[i];
        if (u <= s.u1) {
          if (u >= s.u0) return s.from + ((u - s.u0) / s.w) * (s.to - s.from);
          return i === 0 ? s.from : (u - segments[i - 1].u1 < s.u0 - u ? segments[i - 1].to : s.from);
        }
      }
      return segments[segments.length - 1].to;
    }

    // Where a day ("YYYY-MM-DD") starts in the overview's lanes, in pixels from their left edge, at
    // the current zoom: for tests, and for embedders that draw beside the overview.
    xOfDay(iso) {
      if (!this.axis) return null;
      const { u0, u1 } = this.view;
      return ((this.uOf(dayNumber(iso)) - u0) / (u1 - u0)) * this.lanesEl.clientWidth;
    }

    minViewWidth() {
      // Zoomed in no further than about three days across.
      const perDay = Math.max(...this.axis.segments.map((s) => s.w / (s.to - s.from)));
      return Math.min(1, 3 * perDay);
    }

    setView(u0, u1) {
      if (!this.axis) return;
      const width = Math.min(1, Math.max(this.minViewWidth(), u1 - u0));
      const start = Math.max(0, Math.min(1 - width, u0));
      this.view = { u0: start, u1: start + width };
      this.layoutAxis();
    }

    zoomBy(factor, center) {
      if (!this.axis) return;
      const { u0, u1 } = this.view;
      const width = u1 - u0;
      const mid = center === undefined ? (u0 + u1) / 2 : center;
      const next = Math.min(1, Math.max(this.minViewWidth(), width / factor));
      this.setView(mid - (mid - u0) * (next / width), mid - (mid - u0) * (next / width) + next);
    }

    panBy(share) {
      if (!this.axis) return;
      const width = this.view.u1 - this.view.u0;
      this.setView(this.view.u0 + share * width, this.view.u1 + share * width);
    }

    onOverviewKey(event) {
      if (event.altKey || event.ctrlKey || event.metaKey) return;
      const actions = {
        "+": () => this.zoomBy(2), "=": () => this.zoomBy(2), "-": () => this.zoomBy(0.5), "_": () => this.zoomBy(0.5),
        ArrowLeft: () => this.panBy(-0.3), ArrowRight: () => this.panBy(0.3), "0": () => this.setView(0, 1),
        Home: () => this.setView(0, this.view.u1 - this.view.u0),
        End: () => this.setView(1 - (this.view.u1 - this.view.u0), 1),
      };
      const action = actions[event.key];
      if (!action) return;
      event.preventDefault();
      action();
    }

    // Dragging the lanes moves the view; a drag is not a click on what it started over.
    onDragStart(event) {
      if (event.button !== 0 || !this.axis) return;
      const start = { x: event.clientX, view: { ...this.view }, id: event.pointerId, moved: false };
      const width = this.lanesEl.clientWidth || 1;
      const move = (e) => {
        if (e.pointerId !== start.id) return;
        const dx = e.clientX - start.x;
        if (!start.moved && Math.abs(dx) < 5) return;
        if (!start.moved) { start.moved = true; this.lanesEl.setPointerCapture(e.pointerId); this.lanesEl.classList.add("tlw-dragging"); }
        const du = (-dx / width) * (start.view.u1 - start.view.u0);
        this.setView(start.view.u0 + du, start.view.u1 + du);
      };
      const end = (e) => {
        if (e.pointerId !== start.id) return;
        this.lanesEl.removeEventListener("pointermove", move);
        this.lanesEl.removeEventListener("pointerup", end);
        this.lanesEl.removeEventListener("pointercancel", end);
        this.lanesEl.classList.remove("tlw-dragging");
        if (start.moved) {
          // Swallow the click that ends the drag (it comes before any timer), and only that one.
          this.dragged = true;
          setTimeout(() => { this.dragged = false; }, 0);
        }
      };
      this.lanesEl.addEventListener("pointermove", move);
      this.lanesEl.addEventListener("pointerup", end);
      this.lanesEl.addEventListener("pointercancel", end);
    }

    onLanesClick(event) {
      if (this.dragged) { this.dragged = false; event.preventDefault(); return; }
      const group = event.target.closest("[data-group]");
      if (group) {
        const key = group.getAttribute("data-group");
        if (this.openGroups.has(key)) this.openGroups.delete(key); else this.openGroups.add(key);
        this.layoutAxis();
        return;
      }
      const mark = event.target.closest("[data-assertion-id]");
      if (mark) { event.preventDefault(); this.jumpTo(mark.getAttribute("data-assertion-id")); }
    }

    // A label that fits in `room` pixels: the headline, shortened at a word, or else the kind.
    shortLabel(text, fallback, room, font) {
      if (textWidth(text, font) <= room) return text;
      const words = String(text).split(/\s+/);
      let kept = "";
      for (const word of words) {
        const next = kept ? `${kept} ${word}` : word;
        if (textWidth(`${next}…`, font) > room) break;
        kept = next;
      }
      kept = kept.replace(/[\s,;:.–—-]+$/, "");
      if (kept && (kept.includes(" ") || kept.length >= 6)) return `${kept}…`;
      if (textWidth(fallback, font) <= room) return fallback;
      return fallback === text ? null : this.shortLabel(fallback, fallback, room, font);
    }

    layoutAxis() {
      const axis = this.axis;
      this.overviewEl.hidden = !axis;
      if (!axis) { this.lanesEl.replaceChildren(); this.ticksEl.replaceChildren(); return; }
      const W = this.lanesEl.clientWidth;
      this.laidOutWidth = W;
      if (!W) return; // not on screen yet: the resize observer lays it out when it is
      const { u0, u1 } = this.view;
      const x = (u) => ((u - u0) / (u1 - u0)) * W;
      const style = getComputedStyle(this.lanesEl);
      const font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
      const bold = `${style.fontStyle} 600 ${style.fontSize} ${style.fontFamily}`; // a group's label
      const labelRoom = Math.max(90, Math.min(320, W * (W < 560 ? 0.46 : 0.3)));
      const entries = this.shown || [];

      // Groups: three or more entries with the very same vague range.
      const byRange = new Map();
      {
        for (const entry of entries) {
          const span = daySpan(entry.occurred);
          if (!span || span.openStart || span.openEnd || span.b === span.a) continue;
          const key = `${isoDay(span.a)}/${isoDay(span.b)}`;
          if (!byRange.has(key)) byRange.set(key, []);
          byRange.get(key).push(entry);
        }
      }
      const alike = [...byRange].filter(([, members]) => members.length >= GROUP_MIN);
      const groups = new Map(this.grouping ? alike : []);
      const groupOf = new Map();
      for (const [key, members] of groups) for (const m of members) groupOf.set(m.assertion_id, key);

      const items = [];
      let before = 0;
      let after = 0;
      const place = (item) => {
        if (item.hi < 0) { before += item.count; return; }
        if (item.lo > W) { after += item.count; return; }
        items.push(item);
      };
      for (const [key, members] of groups) {
        const span = daySpan(members[0].occurred);
        const a = x(this.uOf(span.a));
        const b = x(this.uOf(span.b + 1));
        place({ kind: "group", key, members, lo: a, hi: b, range: true, order: 1, count: members.length, open: this.openGroups.has(key) });
      }
      for (const entry of entries) {
        const span = daySpan(entry.occurred);
        if (!span) continue;
        const group = groupOf.get(entry.assertion_id);
        if (group && !this.openGroups.has(group)) continue;
        const day = !span.openStart && !span.openEnd && span.a === span.b;
        const lo = span.openStart ? x(0) : x(this.uOf(span.a));
        const hi = span.openEnd ? x(1) : x(this.uOf(span.b + 1));
        const mid = day ? x(this.uOf(span.a + 0.5)) : null;
        place({ kind: "entry", entry, lo: day ? mid : lo, hi: day ? mid : hi, mid, range: !day, order: day ? 0 : group ? 1.5 : 2, group, count: 1 });
      }

      // Geometry: where the mark and the label go, kept inside the lanes.
      const MARK = 12;
      for (const item of items) {
        const text = item.kind === "group"
          ? `${item.members.length} entries ${item.open ? "▾" : "▸"}`
          : item.entry.headline;
        const fallback = item.kind === "group" ? text : kindLabel(item.entry.kind);
        const icon = item.kind === "group" ? Math.min(new Set(item.members.map((m) => m.kind)).size, 4) * 12 + 4 : item.range ? 14 : 0;
        if (item.range) {
          const bar0 = Math.max(item.lo, 0);
          const bar1 = Math.max(Math.min(item.hi, W), bar0 + 4);
          const face = item.kind === "group" ? bold : font;
          const label = this.shortLabel(text, fallback, Math.min(labelRoom, W - 4) - icon, face);
          const width = label ? textWidth(label, face) + icon + 3 : 0;
          const left = Math.max(0, Math.min(bar0, W - width));
          Object.assign(item, { bar0, bar1, label, labelLeft: left, labelWidth: width, left: Math.min(bar0, left), right: Math.max(bar1, left + width) });
        } else {
          const xc = item.mid;
          let label = this.shortLabel(text, fallback, labelRoom, font);
          let width = label ? textWidth(label, font) + 3 : 0;
          let left = xc + MARK / 2 + 3;
          if (left + width > W) {
            if (xc - MARK / 2 - 3 - width >= 0) left = xc - MARK / 2 - 3 - width;
            else {
              const room = Math.max(W - left, xc - MARK / 2 - 3);
              label = this.shortLabel(text, fallback, room - 3, font);
              width = label ? textWidth(label, font) + 3 : 0;
              left = W - left >= xc - MARK / 2 - 3 ? left : xc - MARK / 2 - 3 - width;
            }
          }
          Object.assign(item, { label, labelLeft: left, labelWidth: width, left: Math.min(xc - MARK / 2, label ? left : xc), right: Math.max(xc + MARK / 2, label ? left + width : xc) });
        }
      }

      // Lanes: exact days first (the firm facts on top), then groups and ranges; first fit.
      items.sort((p, q) => p.order - q.order || p.left - q.left);
      const lanes = [];
      for (const item of items) {
        let lane = lanes.findIndex((taken) => taken.every(([l, r]) => item.left >= r + LABEL_GAP_PX || item.right + LABEL_GAP_PX <= l));
        if (lane === -1) { lane = lanes.length; lanes.push([]); }
        lanes[lane].push([item.left, item.right]);
        item.lane = lane;
      }

      const nodes = items.map((item) => this.renderItem(item));
      const breaks = axis.breaks.filter((b) => b.u1 > u0 && b.u0 < u1).map((b) => h("span", {
        class: "tlw-break", title: `${this.gapText(b)} with no entries, folded`, "data-gap": this.gapText(b),
        style: { left: `${x(b.u0)}px`, width: `${Math.max(x(b.u1) - x(b.u0), 6)}px` },
      }));
      this.lanesEl.style.height = `${Math.max(lanes.length, 1) * LANE_PX + 6}px`;
      this.lanesEl.replaceChildren(...breaks, ...nodes);
      const compressed = axis.segments.filter((s) => s.compressed && s.u1 > u0 && s.u0 < u1).map((s) => h("span", {
        class: "tlw-compressed", title: "Compressed: only long vague ranges here",
        style: { left: `${Math.max(0, x(s.u0))}px`, width: `${Math.min(W, x(s.u1)) - Math.max(0, x(s.u0))}px` },
      }));
      this.ticksEl.replaceChildren(...breaks.map((b) => b.cloneNode()), ...compressed, ...this.renderTicks(x, W, font));

      // What the view shows, segment by segment: the folded years are not part of the span.
      const visible = [];
      for (const s of axis.segments.filter((seg) => seg.u1 > u0 && seg.u0 < u1)) {
        const a = Math.floor(this.dayOf(Math.max(u0, s.u0)) + 1e-6);
        const b = Math.max(a, Math.ceil(this.dayOf(Math.min(u1, s.u1)) - 1e-6) - 1);
        const last = visible[visible.length - 1];
        if (last && a <= last[1] + 1) last[1] = Math.max(last[1], b); else visible.push([a, b]);
      }
      const gaps = axis.breaks.filter((b) => b.u1 > u0 && b.u0 < u1).map((b) => this.gapText(b));
      const outside = before + after ? ` · out of view: ${[before ? `${before} earlier` : "", after ? `${after} later` : ""].filter(Boolean).join(", ")}` : "";
      this.spanEl.textContent = `Showing ${visible.map(([a, b]) => this.rangeText(a, b)).join(" and ")}`
        + `${gaps.length ? ` (${gaps.join(", ")} folded)` : ""}${outside}`;
      this.overviewEl.setAttribute("data-view-from", isoDay(visible[0][0]));
      this.overviewEl.setAttribute("data-view-to", isoDay(visible[visible.length - 1][1]));
      this.overviewEl.setAttribute("data-view-days", String(visible.reduce((n, [a, b]) => n + b - a + 1, 0)));
      this.overviewEl.setAttribute("data-breaks", String(gaps.length));
      this.overviewEl.setAttribute("data-lanes", String(lanes.length));
      const whole = u1 - u0 >= 1 - 1e-9;
      const disable = (button, off) => button.setAttribute("aria-disabled", String(off));
      disable(this.zoomOutBtn, whole);
      disable(this.fitBtn, whole);
      disable(this.zoomInBtn, u1 - u0 <= this.minViewWidth() + 1e-9);
      disable(this.panLeftBtn, u0 <= 1e-9);
      disable(this.panRightBtn, u1 >= 1 - 1e-9);
      this.groupBtn.hidden = !alike.length;
      this.overviewEl.classList.toggle("tlw-has-breaks", axis.breaks.length > 0);
      this.overviewEl.classList.toggle("tlw-has-compressed", axis.segments.some((s) => s.compressed));
    }

    gapText(gap) {
      const years = (gap.to - gap.from) / 365.25;
      return years >= 1.5 ? `${Math.round(years)} years` : plural(Math.round((gap.to - gap.from) / 30.44), "month");
    }

    renderItem(item) {
      const top = `${item.lane * LANE_PX + 3}px`;
      const local = (px) => `${px - item.left}px`;
      if (item.kind === "group") {
        const kinds = [...new Set(item.members.map((m) => m.kind))];
        return h("button", {
          type: "button", class: "tlw-item tlw-item-range tlw-item-group", tabindex: "-1", "data-group": item.key,
          "aria-expanded": String(item.open),
          title: `${item.members.length} entries sometime ${item.members[0].occurred.display || item.key}: ${item.members.map((m) => m.headline).join("; ")}`,
          style: { left: `${item.left}px`, width: `${item.right - item.left}px`, top },
        },
          h("span", { class: "tlw-item-label", style: { left: local(item.labelLeft) } },
            h("span", { class: "tlw-pips" }, kinds.slice(0, 4).map((k) => h("span", { class: `tlw-shape tlw-k-${cssIdent(k)}` }))),
            item.label),
          h("span", { class: "tlw-mark tlw-mark-range tlw-mark-group", style: { left: local(item.bar0), width: `${item.bar1 - item.bar0}px` } }));
      }
      const entry = item.entry;
      const kind = `tlw-k-${cssIdent(entry.kind)}`;
      const classes = ["tlw-item", item.range ? "tlw-item-range" : "tlw-item-day", kind];
      const markClasses = ["tlw-mark", item.range ? "tlw-mark-range" : "tlw-mark-day", kind];
      if (entry.status === "retracted") { classes.push("tlw-item-retracted"); markClasses.push("tlw-mark-retracted"); }
      if (entry.disputed_by.length || entry.disputes.length) markClasses.push("tlw-mark-disputed");
      if (item.group) classes.push("tlw-item-member");
      const mark = item.range
        ? h("span", { class: markClasses.join(" "), style: { left: local(item.bar0), width: `${item.bar1 - item.bar0}px` } })
        : h("span", { class: markClasses.join(" "), style: { left: local(item.mid - 6) } });
      return h("a", {
        class: classes.join(" "), href: `#${this.entryId(entry.assertion_id)}`, tabindex: "-1",
        "data-assertion-id": entry.assertion_id,
        title: `${entry.occurred.display || entry.occurred.edtf}: ${entry.headline}`,
        style: { left: `${item.left}px`, width: `${item.right - item.left}px`, top },
      },
        item.label ? h("span", { class: "tlw-item-label", style: { left: local(item.labelLeft) } },
          item.range ? h("span", { class: `tlw-shape ${kind}` }) : null, item.label) : null,
        mark);
    }

    // Tick labels per segment, spaced by their measured width; none clipped at the edges, none
    // overlapping another or a break.
    renderTicks(x, W, font) {
      const candidates = [
        ["day", 1], ["day", 2], ["week", 7], ["week", 14], ["month", 1], ["month", 2], ["month", 3], ["month", 6],
        ["year", 1], ["year", 2], ["year", 5], ["year", 10], ["year", 25], ["year", 50], ["year", 100],
      ];
      const length = { day: 1, week: 1, month: 30.44, year: 365.25 };
      const widest = {
        day: textWidth(this.dayMonth.format(new Date(Date.UTC(2026, 8, 30))), font),
        week: textWidth(this.dayMonth.format(new Date(Date.UTC(2026, 8, 30))), font),
        month: textWidth(this.monthYear.format(new Date(Date.UTC(2026, 8, 1))), font),
        year: textWidth("2026", font),
      };
      const ticks = [];
      const { u0, u1 } = this.view;
      for (const s of this.axis.segments) {
        if (s.u1 <= u0 || s.u0 >= u1) continue;
        const pxPerDay = (x(s.u1) - x(s.u0)) / (s.to - s.from);
        const lo = Math.max(s.from, this.dayOf(Math.max(u0, s.u0)));
        const hi = Math.min(s.to, this.dayOf(Math.min(u1, s.u1)));
        const found = candidates.find(([unit, step]) => step * length[unit] * pxPerDay >= widest[unit] + 16) || candidates[candidates.length - 1];
        const [unit, step] = found;
        const days = [];
        if (unit === "day" || unit === "week") {
          for (let d = Math.ceil(lo); d <= hi; d += 1) {
            // Day 0 of the epoch was a Thursday, so (d + 3) % 7 === 0 falls on Mondays.
            if (unit === "day" ? d % step === 0 : (d + 3) % step === 0) days.push([d, this.dayMonth.format(new Date(d * DAY_MS))]);
          }
        } else {
          const start = new Date(Math.ceil(lo) * DAY_MS);
          let y = start.getUTCFullYear();
          let m = unit === "month" ? start.getUTCMonth() : 0;
          for (;;) {
            const date = new Date(Date.UTC(y, m, 1));
            const d = date.getTime() / DAY_MS;
            if (d > hi) break;
            const ok = unit === "month" ? date.getUTCMonth() % step === 0 : y % step === 0;
            if (d >= lo && ok) days.push([d, unit === "month" ? this.monthYear.format(date) : String(y)]);
            if (unit === "month") m += 1; else y += 1;
          }
        }
        if (!days.length) {
          // Too short a stretch for any tick: name the segment by its year, at its entries.
          const d = Math.min(Math.max(s.from, lo), hi);
          days.push([d, String(new Date(d * DAY_MS).getUTCFullYear())]);
        }
        for (const [d, label] of days) ticks.push({ at: x(this.uOf(d)), label, width: textWidth(label, font) + 2 });
      }
      ticks.sort((p, q) => p.at - q.at);
      const zones = this.axis.breaks.map((b) => [x(b.u0), x(b.u1)]);
      const kept = [];
      let edge = -Infinity;
      for (const tick of ticks) {
        const left = Math.max(0, Math.min(W - tick.width, tick.at - tick.width / 2));
        if (left < edge + 10) continue;
        if (zones.some(([a, b]) => left < b && left + tick.width > a)) continue;
        kept.push(h("span", { class: "tlw-tick", style: { left: `${tick.at}px` } }));
        kept.push(h("span", { class: "tlw-tick-label", style: { left: `${left}px` } }, tick.label));
        edge = left + tick.width;
      }
      return kept;
    }

    // -- entries: a line of facts and the headline; the rest on demand --

    entryId(assertionId) {
      return `${this.uid}-e-${cssIdent(assertionId)}`;
    }

    entryEl(assertionId) {
      return document.getElementById(this.entryId(assertionId));
    }

    renderEntry(entry) {
      const o = entry.occurred || {};
      const span = daySpan(o);
      const vague = span !== null && (span.b > span.a || span.openStart || span.openEnd);
      const retracted = entry.status === "retracted";
      const headingId = `${this.entryId(entry.assertion_id)}-h`;
      const kindClass = `tlw-k-${cssIdent(entry.kind)}`;
      const classes = ["tlw-entry", kindClass];
      if (vague) classes.push("tlw-vague");
      if (retracted) classes.push("tlw-retracted");
      if (entry.disputed_by.length) classes.push("tlw-is-disputed");
      if (entry.disputes.length) classes.push("tlw-is-disputing");
      if (entry.rank !== "normal") classes.push(`tlw-rank-${entry.rank}`);
      if (this.freshIds.has(entry.assertion_id)) classes.push("tlw-new");
      const key = (part) => `${entry.assertion_id}|${part}`;
      const panelId = (part) => `${this.entryId(entry.assertion_id)}-${part}`;
      const open = (part) => this.expanded.has(key(part));
      const toggle = (part, cls, ...content) => h("button", {
        type: "button", class: cls, "aria-expanded": String(open(part)), "aria-controls": panelId(part),
        "data-toggle": key(part), "data-key": key(`${part}-button`),
      }, ...content);

      let when;
      if (span === null) {
        when = h("span", { class: "tlw-display" }, o.display || o.edtf || "Date unknown");
      } else if (vague) {
        when = h("span", { class: "tlw-display", title: o.edtf }, o.display || o.edtf);
      } else {
        when = h("time", { class: "tlw-display", datetime: o.earliest, title: o.edtf }, o.display || o.edtf);
      }
      const qualifiers = [];
      if (o.approximate) qualifiers.push("approximate");
      if (o.uncertain) qualifiers.push("uncertain");
      let track = null;
      if (span && this.axis) {
        const a = span.openStart ? 0 : this.uOf(span.a);
        const b = span.openEnd ? 1 : this.uOf(span.b + 1);
        track = h("span", { class: "tlw-track", "aria-hidden": "true" },
          h("span", {
            class: `tlw-track-bar ${vague ? "tlw-track-range" : "tlw-track-day"}`,
            style: vague ? { left: `${a * 100}%`, width: `${(b - a) * 100}%` } : { left: `${((a + b) / 2) * 100}%` },
          }));
      }
      const dateBlock = h("div", { class: "tlw-when" },
        when,
        vague ? this.rangeNote(o.display, span) : null,
        qualifiers.length
          ? h("span", { class: `tlw-qualifier${/^c\. /.test(o.display || "") && !o.uncertain ? " tlw-said" : ""}` }, qualifiers.join(", "))
          : null,
        track);

      const badges = [h("span", { class: `tlw-kind-badge ${kindClass}` }, kindLabel(entry.kind))];
      if (entry.disputed_by.length || entry.disputes.length) {
        const parts = [];
        if (entry.disputed_by.length) parts.push(h("span", { "aria-hidden": "true" }, "⚠ "), `Disputed by ${entry.disputed_by.length}`);
        if (entry.disputes.length) {
          parts.push(h("span", { "aria-hidden": "true" }, entry.disputed_by.length ? " · ⇄ " : "⇄ "),
            `${entry.disputed_by.length ? "disputes" : "Disputes"} ${entry.disputes.length}`);
        }
        badges.push(toggle("disputes", `tlw-badge tlw-badge-toggle ${entry.disputed_by.length ? "tlw-badge-disputed" : "tlw-badge-disputing"}`,
          ...parts, srOnly(entry.disputed_by.length + entry.disputes.length === 1 ? " entry" : " entries")));
      }
      if (retracted) badges.push(h("span", { class: "tlw-badge tlw-badge-retracted" }, "Retracted"));
      if (entry.rank === "preferred") badges.push(h("span", { class: "tlw-badge tlw-badge-preferred" }, "Preferred account"));
      if (entry.rank === "deprecated") badges.push(h("span", { class: "tlw-badge tlw-badge-deprecated" }, "Deprecated"));
      const history = (entry.revisions && entry.revisions.history) || [];
      if (history.length) {
        const fields = [...new Set(history.flatMap((r) => Object.keys(r.after || {})))].map((f) => FIELD_NAMES[f] || f);
        badges.push(toggle("revisions", "tlw-badge tlw-badge-toggle tlw-badge-revised", `Revised: ${fields.join(", ")}`));
      } else if (entry.revisions && entry.revisions.count) {
        badges.push(h("span", { class: "tlw-badge tlw-badge-revised" }, `Revised ${entry.revisions.count}×`));
      }
      if (entry.sources.length > 1) {
        badges.push(h("span", { class: "tlw-source-count" }, `${entry.sources.length} sources`));
      }

      const headline = h("h3", { class: "tlw-headline", id: headingId },
        toggle("details", "tlw-open",
          retracted ? srOnly("Retracted: ") : null,
          retracted ? h("s", {}, entry.headline) : entry.headline));

      const retraction = retracted
        ? h("p", { class: "tlw-retraction" }, h("strong", {}, "Retracted: "), (entry.retraction && entry.retraction.reason) || "")
        : null;

      const who = entry.attributed_to
        ? h("p", { class: "tlw-attribution" }, "According to ", h("strong", {}, entry.attributed_to))
        : null;
      const actors = entry.actors && entry.actors.length
        ? h("p", { class: "tlw-actors" }, "Involving ", entry.actors.join(", "))
        : null;
      const where = entry.location && entry.location.name
        ? h("p", { class: "tlw-where" }, "Where: ", entry.location.name)
        : null;
      const text = entry.text ? h("p", { class: "tlw-text" }, entry.text) : null;
      const sources = h("div", { class: "tlw-sources" },
        h("p", { class: "tlw-sources-label" },
          entry.corroboration === 1 ? "Source" : `Sources · reported by ${entry.corroboration} outlets`),
        h("ul", { class: "tlw-source-list" }, entry.sources.map((source, index) => this.renderSource(source, key(`src${index}`)))),
        entry.first_reported_at
          ? h("p", { class: "tlw-first" }, "First reported ", this.published(entry.first_reported_at))
          : null);
      const details = h("div", { class: "tlw-details", id: panelId("details"), hidden: !open("details") },
        who, actors, where, text, sources);

      return h("li", {
        class: classes.join(" "), id: this.entryId(entry.assertion_id), tabindex: "-1",
        "data-assertion-id": entry.assertion_id, "data-kind": entry.kind, "aria-labelledby": headingId,
      },
      h("article", { class: "tlw-card" },
        dateBlock,
        h("div", { class: "tlw-body" },
          h("div", { class: "tlw-main" },
            h("p", { class: "tlw-badges" }, badges),
            headline, retraction),
          details,
          this.renderRevisions(entry, history, panelId("revisions"), open("revisions")),
          this.renderDisputes(entry, key, panelId("disputes"), open("disputes")))));
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

    // What each revision changed: the earlier value beside the reason, newest last.
    renderRevisions(entry, history, id, open) {
      if (!history.length) return null;
      const value = (field, v) => {
        if (v === null || v === undefined || v === "") return h("em", {}, "none");
        if (field === "occurred") return h("span", { title: String(v) }, this.edtfText(v));
        if (field === "kind") return kindLabel(v);
        return String(v);
      };
      return h("div", { class: "tlw-revisions", id, hidden: !open, role: "region", "aria-label": `Revisions of “${entry.headline}”` },
        h("ol", { class: "tlw-revision-list" }, history.map((revision) => h("li", { class: "tlw-revision" },
          h("p", { class: "tlw-revision-when" },
            h("strong", {}, `Revised (reported ${this.published(revision.reported_at)})`), revision.reason ? `: ${revision.reason}` : ""),
          h("dl", { class: "tlw-revision-changes" }, Object.keys(revision.after || {}).flatMap((field) => [
            h("dt", {}, `Earlier ${FIELD_NAMES[field] || field}`),
            h("dd", { class: "tlw-revision-before", "data-field": field }, value(field, (revision.before || {})[field])),
          ]))))));
    }

    // One line per entry on the other side of a contradiction (headline, who, when), each a link
    // to it; the note of the dispute, when there is one, on demand. The other entry's own text is
    // not repeated here: it is one link away.
    renderDisputes(entry, key, id, open) {
      if (!entry.disputed_by.length && !entry.disputes.length) return null;
      const notes = new Map();
      for (const note of entry.dispute_notes || []) notes.set(note.by, note.note);
      const line = (otherId, direction) => {
        const other = this.byId.get(otherId);
        const hidden = other && !this.isShown(other);
        const note = direction === "by" ? notes.get(otherId) : ((other && other.dispute_notes) || []).find((n) => n.by === entry.assertion_id);
        const noteText = note && (typeof note === "string" ? note : note.note);
        // Who, when (kept whole on one line), and why the other side may not be in the list.
        const meta = other
          ? [
            other.attributed_to,
            other.occurred && h("span", { class: "tlw-dispute-date" }, other.occurred.display || other.occurred.edtf),
            other.status === "retracted" ? "retracted" : null,
            hidden ? "hidden by the filters" : null,
          ].filter(Boolean).flatMap((part, index) => (index ? [" · ", part] : [part]))
          : [];
        return h("li", { class: "tlw-dispute-line" },
          h("a", {
            class: "tlw-dispute-link", href: `#${this.entryId(otherId)}`, "data-target": otherId,
            "data-key": key(`${direction}:${otherId}`),
          }, other ? other.headline : otherId),
          meta.length ? h("span", { class: "tlw-dispute-meta" }, meta) : null,
          noteText ? h("details", { class: "tlw-dispute-why", "data-key": key(`why-${direction}:${otherId}`) },
            h("summary", { "data-key": key(`why-s-${direction}:${otherId}`) }, "Why", srOnly(` they disagree: ${other ? other.headline : otherId}`)),
            h("p", { class: "tlw-dispute-note" }, noteText)) : null);
      };
      const block = (label, marker, ids, direction) => ids.length
        ? [h("p", { class: `tlw-dispute-label tlw-dispute-${direction}` }, h("span", { class: "tlw-marker", "aria-hidden": "true" }, marker), label),
          h("ul", { class: "tlw-dispute-list" }, ids.map((otherId) => line(otherId, direction)))]
        : [];
      return h("aside", { class: "tlw-disputes", id, hidden: !open, "aria-label": `Contradictions of “${entry.headline}”` },
        block("Disputed by", "⚠", entry.disputed_by, "by"),
        block("Disputes", "⇄", entry.disputes, "of"));
    }

    // The display wording ("January 2026", "c. Jan 24") says how the sources put it; the note
    // says what range that means, unless the wording already is that range.
    // (A note the wording already says, marked tlw-said, is left out on a narrow screen.)
    rangeNote(display, span) {
      if (span.openStart || span.openEnd) return h("span", { class: "tlw-range-text" }, "open-ended: one end is not known");
      const text = this.rangeText(span.a, span.b);
      const plain = (value) => String(value || "").replace(/[\s\u2009\u202f–-]+/g, " ").trim();
      return plain(text) === plain(display)
        ? h("span", { class: "tlw-range-text tlw-said" }, "exact day not known")
        : h("span", { class: "tlw-range-text" }, `sometime ${text}`);
    }

    // -- interaction --

    onListClick(event) {
      const button = event.target.closest("[data-toggle]");
      if (button && this.listEl.contains(button)) {
        const key = button.getAttribute("data-toggle");
        const open = !this.expanded.has(key);
        if (open) this.expanded.add(key); else this.expanded.delete(key);
        button.setAttribute("aria-expanded", String(open));
        const panel = document.getElementById(button.getAttribute("aria-controls"));
        if (panel) panel.hidden = !open;
        return;
      }
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

    // Hover or focus on a dispute link lights up both sides; on an entry, its mark in the overview.
    onPoint(event, on) {
      const link = event.target.closest(".tlw-dispute-link");
      if (link) {
        const target = this.entryEl(link.getAttribute("data-target"));
        const own = link.closest(".tlw-entry");
        for (const node of [target, own]) if (node) node.classList.toggle("tlw-linked", on);
      }
      const entry = event.target.closest(".tlw-entry");
      if (entry) {
        const id = entry.dataset.assertionId;
        let mark = this.lanesEl.querySelector(`[data-assertion-id="${CSS.escape(id)}"]`);
        if (!mark) {
          const shown = this.byId && this.byId.get(id);
          const span = shown && daySpan(shown.occurred);
          if (span) mark = this.lanesEl.querySelector(`[data-group="${CSS.escape(`${isoDay(span.a)}/${isoDay(span.b)}`)}"]`);
        }
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
      if (this.cut() === null && behind) this.refresh().catch((error) => this.fail(error));
    }

    updateLiveStatus() {
      if (!this.live) return;
      if (this.clock === "recorded" && this.asOfVersion !== null) {
        const newer = this.headVersion - this.asOfVersion;
        this.setStatus(`Showing version ${this.asOfVersion}; ${newer} newer ${newer === 1 ? "event" : "events"} since`);
      } else if (this.clock === "reported" && this.reportedTime()) {
        const time = this.reportedTime();
        const later = this.publicationTimes().filter((t) => t.at > time.at).reduce((n, t) => n + t.events.length, 0);
        this.setStatus(`Showing what had been reported by ${time ? this.published(time.text) : "then"}; ${later} later ${later === 1 ? "event" : "events"}`);
      } else {
        this.setStatus(this.connected ? "Live: new entries appear here" : "Reconnecting…");
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
      if (this.resizer) this.resizer.disconnect();
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
