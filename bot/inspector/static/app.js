// The inspector page: every view reads the JSON API at /inspector/api through the audience of
// the conversation chosen in the bar, so what it shows is what that audience may see.
"use strict";

const API = "/inspector/api";
const $ = (id) => document.getElementById(id);

const state = { token: "", agent: null, agents: [], tools: [], chatMark: 0 };

// -- token ------------------------------------------------------------------------------------

function readToken() {
  const match = location.hash.match(/token=([^&]+)/);
  if (match) {
    sessionStorage.setItem("mnemo-inspector-token", decodeURIComponent(match[1]));
    history.replaceState(null, "", location.pathname);
  }
  state.token = sessionStorage.getItem("mnemo-inspector-token") || "";
}

function askForToken(message) {
  $("token-form").hidden = false;
  setStatus(message, true);
}

// -- helpers ----------------------------------------------------------------------------------

function setStatus(text, isError = false) {
  const status = $("status");
  status.textContent = text;
  status.className = isError ? "error" : "muted";
}

async function api(method, path, { params, body } = {}) {
  const url = new URL(API + path, location.origin);
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== "" && value !== undefined && value !== null) url.searchParams.set(key, value);
  }
  const response = await fetch(url, {
    method,
    headers: {
      Authorization: `Bearer ${state.token}`,
      ...(body ? { "Content-Type": "application/json" } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await response.json().catch(() => ({}));
  if (response.status === 401) askForToken("The inspector token is missing or wrong.");
  if (!response.ok) {
    const error = new Error(data.error || `HTTP ${response.status}`);
    error.status = response.status;
    error.data = data;
    throw error;
  }
  return data;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "";
}

function conversation() {
  return {
    workspace: $("workspace").value.trim(),
    kind: $("kind").value,
    channel: $("channel").value.trim(),
    thread: $("thread").value.trim(),
    user: $("user").value.trim(),
    user_name: $("user-name").value.trim(),
  };
}

function agentPath(suffix = "") {
  return `/agents/${encodeURIComponent(state.agent.id)}${suffix}`;
}

async function guarded(action) {
  try {
    await action();
  } catch (error) {
    setStatus(error.message, true);
  }
}

// -- agents and conversations ------------------------------------------------------------------

// The page opens on the default agent, in its latest conversation.
async function loadAgents() {
  const { agents, default_agent_id } = await api("GET", "/agents");
  state.agents = agents;
  const select = $("agent");
  select.replaceChildren(...agents.map((a) => el("option", { value: a.id }, a.name)));
  const first = agents.find((a) => a.id === default_agent_id) || agents[0];
  if (first) {
    select.value = first.id;
    await selectAgent(first.id);
  }
}

async function selectAgent(id) {
  state.agent = state.agents.find((a) => a.id === id);
  const a = state.agent;
  $("agent-info").textContent =
    `${a.model} · budget ${a.context_budget} tokens · ${a.tools.length} tools · max ${a.max_steps} steps`;
  await loadRecent();
  await Promise.all([loadTools(), refreshAll()]);
}

function showConversation(c) {
  $("workspace").value = c.workspace;
  $("kind").value = c.kind;
  $("channel").value = c.channel;
  $("thread").value = c.thread;
  if (c.user) $("user").value = c.user;
}

async function loadRecent() {
  const { conversations } = await api("GET", "/conversations");
  const mine = conversations.filter((c) => c.agent_id === state.agent.id);
  $("recent").replaceChildren(
    el("option", { value: "" }, mine.length ? "choose…" : "none yet"),
    ...mine.map((c, i) =>
      el(
        "option",
        { value: String(i) },
        `${c.kind} ${c.channel}${c.thread ? " › " + c.thread : ""}${c.user ? " (" + c.user + ")" : ""} · ${c.workspace} · ${c.messages} msgs`,
      ),
    ),
  );
  $("recent").onchange = () => {
    const c = mine[Number($("recent").value)];
    if (!c) return;
    showConversation(c);
    guarded(refreshAll);
  };
  if (mine.length) {
    $("recent").value = "0"; // newest first
    showConversation(mine[0]);
  }
}

async function refreshAll() {
  setStatus("");
  await Promise.all([loadBlocks(), loadContext(), refreshOpenPanel()]);
}

// -- blocks -----------------------------------------------------------------------------------

async function loadBlocks() {
  const data = await api("GET", agentPath("/blocks"), { params: conversation() });
  $("audience").textContent =
    `writes to ${data.write_scope}; reads ${data.readable_scopes.join(", ")}`;
  $("blocks").replaceChildren(...data.blocks.map(renderBlock));
}

function renderBlock(block) {
  const full = block.size / block.limit;
  const card = el(
    "article",
    { class: "block", "data-label": block.label },
    el(
      "header",
      {},
      el("strong", {}, block.label),
      block.subject_name ? el("span", { class: "muted" }, ` about ${block.subject_name}`) : null,
      el("span", { class: "size" + (full > 0.9 ? " warn" : "") }, `${block.size}/${block.limit}`),
    ),
    el("div", { class: "meter" }, el("div", { style: `width:${Math.min(100, full * 100)}%` })),
  );
  for (const part of block.parts) card.append(renderPart(block, part));
  if (!block.parts.some((p) => p.writable)) {
    const text = el("textarea", { rows: "2", placeholder: "Add this conversation's part…" });
    const save = el("button", { type: "button" }, "Save");
    save.addEventListener("click", () =>
      guarded(async () => {
        await api("PUT", agentPath(`/blocks/labels/${encodeURIComponent(block.label)}`), {
          body: { ...conversation(), value: text.value },
        });
        await Promise.all([loadBlocks(), loadContext()]);
      }),
    );
    card.append(el("div", { class: "part new" }, text, save));
  }
  return card;
}

function renderPart(block, part) {
  const text = el("textarea", { rows: "3", "data-part": part.id }, part.value);
  text.value = part.value;
  const save = el("button", { type: "button" }, "Save");
  save.addEventListener("click", () =>
    guarded(async () => {
      try {
        await api("PUT", agentPath(`/blocks/parts/${encodeURIComponent(part.id)}`), {
          body: { ...conversation(), value: text.value, expected_version: part.version },
        });
        setStatus(`${block.label} saved`);
      } catch (error) {
        if (error.status !== 409) throw error;
        setStatus("Someone else changed this part first; showing the current text.", true);
      }
      await Promise.all([loadBlocks(), loadContext()]);
    }),
  );
  return el(
    "div",
    { class: "part" + (part.writable ? " writable" : "") },
    el("div", { class: "muted small" }, `seen ${part.seen} · ${part.scope} · v${part.version}`),
    text,
    save,
  );
}

// -- chat -------------------------------------------------------------------------------------

function say(who, text, kind) {
  const line = el("div", { class: `line ${kind}` }, el("b", {}, who + ": "), text);
  $("transcript").append(line);
  line.scrollIntoView({ block: "end" });
}

async function sendChat(event) {
  event.preventDefault();
  const input = $("chat-input");
  const text = input.value.trim();
  if (!text) return;
  input.value = "";
  const c = conversation();
  say(c.user_name || c.user, text, "user");
  $("chat-send").disabled = true;
  setStatus(`${state.agent.name} is thinking…`);
  try {
    let result = await api("POST", agentPath("/chat"), { body: { ...c, text } });
    // A turn still running after the server's wait: poll its replies for a few more minutes.
    for (let tries = 0; !result.settled && tries < 180; tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const later = await api("GET", agentPath("/chat"), { params: { ...c, after: result.mark } });
      if (later.replies.length) result = { ...result, replies: later.replies, settled: true };
    }
    if (!result.settled) say(state.agent.name, "(no reply yet; see Recall later)", "silent");
    else if (!result.replies.length) say(state.agent.name, "(chose not to reply)", "silent");
    for (const reply of result.replies) say(state.agent.name, reply, "agent");
    setStatus("");
    await Promise.all([loadBlocks(), loadContext(), refreshOpenPanel(), loadRecent()]);
  } catch (error) {
    setStatus(error.message, true);
  } finally {
    $("chat-send").disabled = false;
  }
}

// -- context window ---------------------------------------------------------------------------

async function loadContext() {
  const data = await api("GET", agentPath("/context"), { params: conversation() });
  const usable = data.budget - data.answer_reserve;
  $("context-total").textContent =
    `${data.total} of ${usable} tokens (budget ${data.budget}, ${data.answer_reserve} kept for the answer) · ${data.messages_in_view} stored messages in view`;
  $("context-meter").style.width = `${Math.min(100, (100 * data.total) / usable)}%`;
  $("context-sections").replaceChildren(
    el("tr", {}, el("th", {}, "section"), el("th", {}, "tokens")),
    ...Object.entries(data.sections).map(([name, tokens]) =>
      el("tr", { "data-section": name }, el("td", {}, name), el("td", {}, String(tokens))),
    ),
  );
  $("context-messages").replaceChildren(
    ...data.request.messages.map((m) =>
      el(
        "div",
        { class: `message ${m.role}` },
        el("div", { class: "role" }, m.role),
        el("pre", {}, messageText(m)),
      ),
    ),
  );
  $("context-tools").textContent = JSON.stringify(data.request.tools, null, 2);
  $("context-raw").textContent = JSON.stringify(data.request, null, 2);
}

function messageText(message) {
  const calls = (message.tool_calls || []).map(
    (c) => `→ ${c.function.name}(${c.function.arguments})`,
  );
  return [message.content || "", ...calls].filter(Boolean).join("\n");
}

// -- recall and archival ----------------------------------------------------------------------

/** Fill the panel `name` with the shared search form (its ids `${name}-form`, `-query`,
 * `-total`, `-results`), the panel's own filter inside the form, searching with `load`. */
function mountSearchPanel(name, load) {
  const panel = $(`panel-${name}`);
  const filters = [...panel.children];
  panel.append($("search-panel").content.cloneNode(true));
  const form = panel.querySelector("form");
  const query = form.querySelector("input");
  form.id = `${name}-form`;
  query.id = `${name}-query`;
  query.placeholder = `Search ${name} (empty: newest)`;
  query.after(...filters);
  panel.querySelector("p").id = `${name}-total`;
  panel.querySelector("ol").id = `${name}-results`;
  form.addEventListener("submit", (e) => { e.preventDefault(); guarded(load); });
}

async function loadRecall() {
  const data = await api("GET", agentPath("/recall"), {
    params: {
      ...conversation(),
      q: $("recall-query").value.trim(),
      this_channel: $("recall-channel").checked ? "true" : "",
    },
  });
  $("recall-total").textContent = `${data.total} messages visible to this audience`;
  $("recall-results").replaceChildren(
    ...data.messages.map((m) =>
      el(
        "li",
        {},
        el(
          "div",
          { class: "muted small" },
          `${when(m.created_at)} · ${m.role} · ${m.author_name || m.author || "tool"} · ${m.channel} · ${m.scope}` +
            (m.score !== undefined ? ` · score ${m.score.toFixed(3)}` : ""),
        ),
        el("div", {}, messageText({ content: m.content, tool_calls: toChatCalls(m.tool_calls) })),
      ),
    ),
  );
}

function toChatCalls(calls) {
  return calls.map((c) => ({ function: { name: c.name, arguments: c.arguments } }));
}

async function loadArchival() {
  const data = await api("GET", agentPath("/archival"), {
    params: {
      ...conversation(),
      q: $("archival-query").value.trim(),
      tags: $("archival-tags").value.trim(),
    },
  });
  $("archival-total").textContent = `${data.total} passages visible to this audience`;
  $("archival-results").replaceChildren(...data.passages.map(renderPassage));
  await citePassages(data.passages);
}

function renderPassage(passage) {
  const remove = el("button", { type: "button", class: "danger" }, "Delete");
  remove.addEventListener("click", () =>
    guarded(async () => {
      if (!confirm("Forget this passage, and everything derived from it?")) return;
      await api("DELETE", agentPath(`/memory/passage/${encodeURIComponent(passage.id)}`), {
        params: conversation(),
      });
      await refreshAll();
    }),
  );
  return el(
    "li",
    {},
    el(
      "div",
      { class: "muted small" },
      `${when(passage.created_at)} · ${passage.scope}` +
        (passage.tags.length ? ` · #${passage.tags.join(" #")}` : "") +
        (passage.score !== undefined ? ` · score ${passage.score.toFixed(3)}` : ""),
    ),
    el("div", {}, passage.text),
    remove,
  );
}

// -- tool tester ------------------------------------------------------------------------------

async function loadTools() {
  const { tools } = await api("GET", agentPath("/tools"));
  state.tools = tools;
  $("tool-name").replaceChildren(...tools.map((t) => el("option", { value: t.name }, t.name)));
  showToolSchema();
}

function showToolSchema() {
  const tool = state.tools.find((t) => t.name === $("tool-name").value);
  $("tool-schema").textContent = tool
    ? `${tool.schema.function.description}\n\n${JSON.stringify(tool.schema.function.parameters, null, 2)}`
    : "";
}

async function runTool(event) {
  event.preventDefault();
  await guarded(async () => {
    let args;
    try {
      args = JSON.parse($("tool-args").value || "{}");
    } catch (error) {
      throw new Error(`Arguments are not valid JSON: ${error.message}`);
    }
    const name = encodeURIComponent($("tool-name").value);
    const result = await api("POST", agentPath(`/tools/${name}/run`), {
      body: { ...conversation(), arguments: args },
    });
    $("tool-result").className = result.error ? "error" : "";
    $("tool-result").textContent =
      `${result.output}` +
      (result.replies.length ? `\n\nreplies (not sent): ${result.replies.join(" | ")}` : "") +
      `\n\n(${result.elapsed_ms} ms${result.terminal ? ", ends the turn" : ""})`;
    await Promise.all([loadBlocks(), loadContext()]);
  });
}

// -- job runs ---------------------------------------------------------------------------------

async function loadJobs() {
  const data = await api("GET", "/jobs/runs", { params: { job: $("jobs-filter").value } });
  const chosen = $("jobs-filter").value;
  $("jobs-filter").replaceChildren(
    el("option", { value: "" }, "all jobs"),
    ...data.jobs.map((j) => el("option", { value: j }, j)),
  );
  $("jobs-filter").value = chosen;
  const head = ["job", "target", "status", "started", "ended", "tokens", "detail"];
  $("jobs-table").replaceChildren(
    el("tr", {}, ...head.map((h) => el("th", {}, h))),
    ...data.runs.map((r) =>
      el(
        "tr",
        { class: r.status },
        ...[r.job, r.target, r.status, when(r.started_at), when(r.ended_at), String(r.tokens),
          r.error || r.detail].map((v) => el("td", {}, v)),
      ),
    ),
  );
  if (!data.runs.length) $("jobs-table").append(el("tr", {}, el("td", {}, "No runs recorded.")));
}

// -- feedback: people's ratings of the agents' replies -----------------------------------------

async function loadFeedback() {
  const data = await api("GET", "/feedback");
  $("feedback-counts").textContent = `👍 ${data.counts.good}  👎 ${data.counts.bad}`;
  const head = ["when", "rating", "user", "workspace", "channel", "turn", "reply"];
  $("feedback-table").replaceChildren(
    el("tr", {}, ...head.map((h) => el("th", {}, h))),
    ...data.feedback.map((f) =>
      el(
        "tr",
        { class: f.rating },
        ...[when(f.at), f.rating === "good" ? "👍" : "👎", f.user, f.workspace, f.channel,
          f.turn_id, f.reply_id].map((v) => el("td", {}, v)),
      ),
    ),
  );
  if (!data.feedback.length) {
    $("feedback-table").append(el("tr", {}, el("td", {}, "No ratings yet.")));
  }
}

// -- panels -----------------------------------------------------------------------------------

const panelLoaders = { context: loadContext, recall: loadRecall, archival: loadArchival,
  sources: loadSources, tools: async () => {}, jobs: loadJobs, feedback: loadFeedback };
let openPanel = "context";

function showPanel(name) {
  openPanel = name;
  for (const tab of document.querySelectorAll("[role=tab]")) {
    tab.setAttribute("aria-selected", String(tab.dataset.panel === name));
  }
  for (const panel of document.querySelectorAll(".panel")) panel.hidden = panel.id !== `panel-${name}`;
  guarded(panelLoaders[name]);
}

async function refreshOpenPanel() {
  if (openPanel !== "context") await panelLoaders[openPanel]();
}

// -- start ------------------------------------------------------------------------------------

function keepDmChannel() {
  // A DM's channel follows its user unless typed otherwise.
  if ($("kind").value === "dm" && /^D-/.test($("channel").value)) {
    $("channel").value = `D-${$("user").value.trim()}`;
  }
}

function start() {
  readToken();
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem("mnemo-inspector-token", $("token-input").value.trim());
    state.token = $("token-input").value.trim();
    $("token-form").hidden = true;
    guarded(loadAgents);
  });
  $("agent").addEventListener("change", () => guarded(() => selectAgent($("agent").value)));
  $("apply-conversation").addEventListener("click", () => guarded(refreshAll));
  $("user").addEventListener("change", keepDmChannel);
  $("kind").addEventListener("change", () => {
    if ($("kind").value === "dm") $("channel").value = `D-${$("user").value.trim()}`;
    else if (/^D-/.test($("channel").value)) $("channel").value = "C-general";
    guarded(refreshAll);
  });
  $("chat-form").addEventListener("submit", sendChat);
  $("feedback-refresh").addEventListener("click", () => guarded(loadFeedback));
  $("context-refresh").addEventListener("click", () => guarded(loadContext));
  mountSearchPanel("recall", loadRecall);
  mountSearchPanel("archival", loadArchival);
  mountSearchPanel("sources", loadSources);
  $("tool-name").addEventListener("change", showToolSchema);
  $("tool-form").addEventListener("submit", runTool);
  $("jobs-refresh").addEventListener("click", () => guarded(loadJobs));
  $("jobs-filter").addEventListener("change", () => guarded(loadJobs));
  for (const tab of document.querySelectorAll("[role=tab]")) {
    tab.addEventListener("click", () => showPanel(tab.dataset.panel));
  }
  if (!state.token) askForToken("Open the link the bot printed at start, or paste its token.");
  else guarded(loadAgents);
}

start();
