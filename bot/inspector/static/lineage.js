// Where memories came from: each block line with the messages it came from (links open them on
// their platform), "why" for some words, sources under archival passages, and forgetting one
// line or passage with what was derived from it. Loaded before app.js, whose helpers it uses.
"use strict";

function renderSources(sources) {
  if (!sources.length) return el("div", { class: "muted small" }, "no source this audience may see");
  return el(
    "ul",
    { class: "sources" },
    ...sources.map((s) =>
      el(
        "li",
        { class: "small" },
        `${s.author}, ${when(s.said_at)} in ${s.channel}: “${s.text}” `,
        s.link ? el("a", { href: s.link, target: "_blank", rel: "noopener" }, "open") : null,
      ),
    ),
  );
}

function forgetButton(item) {
  const button = el("button", { type: "button", class: "danger" }, "Forget");
  button.addEventListener("click", () =>
    guarded(async () => {
      if (!confirm(`Forget “${item.text}” and everything derived from it?`)) return;
      const path = `/memory/${item.kind}/${encodeURIComponent(item.record_id)}`;
      const done = await api("DELETE", agentPath(path), { params: conversation() });
      await refreshAll();
      setStatus(`Forgot ${done.removed}.`);
    }),
  );
  return button;
}

function renderItem(item) {
  return el(
    "li",
    {},
    el("div", { class: "muted small" }, item.label),
    el("div", {}, item.text),
    renderSources(item.sources),
    forgetButton(item),
  );
}

/** The Sources panel: every block line this audience sees, or, with words, why it believes them. */
async function loadSources() {
  const q = $("sources-query").value.trim();
  const items = q
    ? (await api("GET", agentPath("/why"), { params: { ...conversation(), q } })).items
    : (await api("GET", agentPath("/sources"), { params: conversation() })).lines;
  $("sources-total").textContent = q
    ? `${items.length} memories match, with the sources this audience may see`
    : `${items.length} lines of core memory, with the sources this audience may see`;
  $("sources-results").replaceChildren(...items.map(renderItem));
}

/** Under each archival passage shown, the messages it came from. */
async function citePassages(passages) {
  if (!passages.length) return;
  const ids = passages.map((p) => p.id).join(",");
  const data = await api("GET", agentPath("/sources"), { params: { ...conversation(), passages: ids } });
  const cited = new Map(data.passages.map((p) => [p.record_id, p.sources]));
  [...$("archival-results").children].forEach((li, i) =>
    li.insertBefore(renderSources(cited.get(passages[i].id) || []), li.lastChild),
  );
}
