// brandcrew web page: chat with the team, approvals, content calendar, campaigns and spend.
// Plain ES module, no build step. Server text only ever reaches the page through textContent
// (the `h` helper below); nothing is parsed as HTML.

const $ = (sel) => document.querySelector(sel);

/** An element with attributes and children; strings become text nodes, never markup. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") el.className = value;
    else if (name === "text") el.textContent = value;
    else if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** A CSS-class-safe token from server text (platform or status names). */
const token = (value) => String(value ?? "").toLowerCase().replace(/[^a-z0-9_-]/g, "");

/** The first array in a list response, whatever its envelope (`[...]`, `{items: [...]}`, ...). */
function listOf(body, ...keys) {
  if (Array.isArray(body)) return body;
  if (!body || typeof body !== "object") return [];
  for (const key of [...keys, "items", "data", "results"]) if (Array.isArray(body[key])) return body[key];
  return Object.values(body).find(Array.isArray) ?? [];
}

/** The first present field among camelCase and snake_case spellings. */
function pick(obj, ...names) {
  if (!obj || typeof obj !== "object") return undefined;
  for (const name of names) if (obj[name] !== undefined && obj[name] !== null) return obj[name];
  return undefined;
}

/** A USD amount from a number, a decimal string or an object holding one; null when unknown. */
function usd(value) {
  if (value === undefined || value === null || value === "") return null;
  if (typeof value === "object") {
    return usd(pick(value, "costUsd", "cost_usd", "spentUsd", "spent_usd", "usd", "amountUsd", "total", "amount"));
  }
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

function money(value) {
  if (value === null || value === undefined) return "unknown";
  if (value === 0) return "$0.00";
  if (Math.abs(value) < 1) return `$${value.toFixed(4)}`;
  return `$${value.toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

const dateFmt = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric" });
const timeFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dateTimeFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

function when(iso, fmt = dateTimeFmt) {
  const d = iso ? new Date(iso) : null;
  return d && !Number.isNaN(d.getTime()) ? fmt.format(d) : "";
}

let toastTimer;
function toast(message) {
  const el = $("#toast");
  el.textContent = message;
  el.classList.add("show");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove("show"), 3500);
}

function setStatus(el, message, isError = false) {
  el.textContent = message;
  el.classList.toggle("error", isError);
}

// ---------------------------------------------------------------- auth and API calls

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const STORAGE_KEY = "brandcrew.auth";
const auth = { accessToken: null, refreshToken: null, user: null };

function loadTokens() {
  try {
    Object.assign(auth, JSON.parse(sessionStorage.getItem(STORAGE_KEY) || "{}"));
  } catch {
    sessionStorage.removeItem(STORAGE_KEY);
  }
}

function saveTokens(tokens) {
  auth.accessToken = tokens.accessToken ?? auth.accessToken;
  auth.refreshToken = tokens.refreshToken ?? auth.refreshToken;
  if (tokens.user) auth.user = tokens.user;
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(auth));
}

function clearTokens() {
  auth.accessToken = auth.refreshToken = auth.user = null;
  sessionStorage.removeItem(STORAGE_KEY);
}

let refreshing = null;
/** Trade the refresh token for a new pair, once even when several calls hit a 401 together. */
function refreshTokens() {
  if (!refreshing) {
    refreshing = (async () => {
      if (!auth.refreshToken) return false;
      const res = await fetch("/api/auth/refresh", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ refreshToken: auth.refreshToken }),
      });
      if (!res.ok) return false;
      saveTokens(await res.json());
      return true;
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

async function errorOf(res) {
  let code = `HTTP_${res.status}`;
  let message = res.statusText || "request failed";
  try {
    const body = await res.json();
    const err = body.error ?? body;
    code = err.code ?? code;
    message = err.message ?? (typeof err.detail === "string" ? err.detail : message);
  } catch {
    // not JSON: keep the status text
  }
  return new ApiError(res.status, code, message);
}

/** fetch with the access token; on 401 refresh once and retry; a failed refresh signs out. */
async function apiFetch(path, { method = "GET", body, headers = {}, signal } = {}) {
  const send = () =>
    fetch(path, {
      method,
      signal,
      headers: {
        Accept: "application/json",
        ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
        ...(auth.accessToken ? { Authorization: `Bearer ${auth.accessToken}` } : {}),
        ...headers,
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  let res = await send();
  if (res.status === 401 && auth.refreshToken) {
    if (await refreshTokens()) res = await send();
  }
  if (res.status === 401) {
    clearTokens();
    showLogin("Your session has ended. Please sign in again.");
  }
  if (!res.ok) throw await errorOf(res);
  return res;
}

async function api(path, options) {
  const res = await apiFetch(path, options);
  return res.status === 204 ? null : res.json();
}

/** A message for a panel whose API failed: a missing endpoint reads differently from an error. */
function failure(what, err) {
  if (err instanceof ApiError && (err.status === 404 || err.status === 405)) {
    return `${what} is not available on this server yet.`;
  }
  if (err instanceof ApiError && err.status === 403) return `You do not have access to ${what.toLowerCase()}.`;
  return `Could not load ${what.toLowerCase()}: ${err.message}`;
}

const campaignNames = new Map();

/** Campaign names by id (approvals and budgets name campaigns); best effort. */
async function loadCampaignNames() {
  try {
    for (const c of listOf(await api("/api/campaigns"), "campaigns")) campaignNames.set(String(c.id), String(c.name ?? c.id));
  } catch {
    // ids are shown instead
  }
}

// ---------------------------------------------------------------- login and navigation

function showLogin(message = "") {
  $("#app-view").hidden = true;
  $("#login-view").hidden = false;
  $("#login-error").textContent = message;
  $("#login-email").focus();
}

function showApp() {
  $("#login-view").hidden = true;
  $("#app-view").hidden = false;
  const user = auth.user ?? {};
  $("#who-name").textContent = user.name || user.email || "";
  route();
  refreshApprovalCount();
}

$("#login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const email = $("#login-email").value.trim();
  const password = $("#login-password").value;
  if (!email || !password) {
    $("#login-error").textContent = "Enter your email and password.";
    return;
  }
  const button = event.submitter ?? $("#login-form button");
  button.disabled = true;
  $("#login-error").textContent = "";
  try {
    const res = await fetch("/api/auth/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email, password }),
    });
    if (!res.ok) throw await errorOf(res);
    saveTokens(await res.json());
    $("#login-password").value = "";
    showApp();
  } catch (err) {
    $("#login-error").textContent =
      err instanceof ApiError && err.status === 401 ? "Wrong email or password." : err.message;
  } finally {
    button.disabled = false;
  }
});

$("#logout").addEventListener("click", async () => {
  const refreshToken = auth.refreshToken;
  clearTokens();
  chat.reset();
  runScopes = null;
  if (refreshToken) {
    fetch("/api/auth/logout", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refreshToken }),
    }).catch(() => {});
  }
  showLogin();
});

const loaders = {};
function route() {
  if ($("#app-view").hidden) return;
  const name = (location.hash || "#chat").slice(1);
  const tab = loaders[name] ? name : "chat";
  for (const panel of document.querySelectorAll("[data-panel]")) panel.hidden = panel.dataset.panel !== tab;
  for (const link of document.querySelectorAll("[data-tab]")) {
    if (link.dataset.tab === tab) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  loaders[tab]();
}
window.addEventListener("hashchange", route);

// ---------------------------------------------------------------- chat

/** Server-sent events from a fetch response body, as {event, data} with data parsed as JSON. */
async function* readEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let event = "message";
  let data = [];
  for (;;) {
    const { value, done } = await reader.read();
    buffer += decoder.decode(value ?? new Uint8Array(), { stream: !done });
    const lines = buffer.split("\n");
    buffer = done ? "" : lines.pop();
    for (const raw of lines) {
      const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
      if (line === "") {
        if (data.length) {
          const text = data.join("\n");
          let parsed = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // keep the raw text
          }
          yield { event, data: parsed };
        }
        event = "message";
        data = [];
      } else if (line.startsWith(":")) {
        continue; // a comment (keep-alive ping)
      } else {
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const val = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") event = val;
        else if (field === "data") data.push(val);
      }
    }
    if (done) break;
  }
}

/** The text of a message chunk's content (a string, or a list of content blocks). */
function textOf(content) {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content.map((part) => (typeof part === "string" ? part : part?.type === "text" ? part.text ?? "" : "")).join("");
  }
  return "";
}

const isAi = (msg) => msg && ["ai", "AIMessage", "AIMessageChunk"].includes(msg.type ?? msg.role);


/** Inline `**bold**` and `` `code` `` as elements; everything else stays text. */
function inline(text) {
  const out = [];
  const re = /\*\*([^*]+)\*\*|`([^`]+)`/g;
  let last = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    out.push(m[1] !== undefined ? h("strong", { text: m[1] }) : h("code", { text: m[2] }));
    last = re.lastIndex;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

/** A model's Markdown answer as DOM: headings, bullet and numbered lists, paragraphs (no HTML parsing). */
function renderMarkdown(text) {
  const blocks = [];
  let list = null;
  let para = null;
  const close = () => {
    list = null;
    para = null;
  };
  for (const raw of String(text).split("\n")) {
    const line = raw.trimEnd();
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    const bullet = /^\s*[-*•]\s+(.*)$/.exec(line);
    const numbered = /^\s*\d+[.)]\s+(.*)$/.exec(line);
    if (!line.trim()) {
      close();
    } else if (heading) {
      close();
      blocks.push(h(heading[1].length <= 2 ? "h3" : "h4", {}, inline(heading[2])));
    } else if (bullet || numbered) {
      const tag = bullet ? "ul" : "ol";
      if (!list || list.tagName.toLowerCase() !== tag) {
        para = null;
        list = h(tag);
        blocks.push(list);
      }
      list.append(h("li", {}, inline((bullet ?? numbered)[1])));
    } else if (para) {
      para.append(h("br"), ...inline(line));
    } else {
      list = null;
      para = h("p", {}, inline(line));
      blocks.push(para);
    }
  }
  return blocks;
}

const chat = {
  threadId: sessionStorage.getItem("brandcrew.thread"),
  busy: false,

  reset() {
    this.threadId = null;
    sessionStorage.removeItem("brandcrew.thread");
    $("#chat-log").replaceChildren(emptyChat());
  },

  async ensureThread() {
    if (!this.threadId) {
      const thread = await api("/threads", { method: "POST", body: {} });
      this.threadId = thread.thread_id ?? thread.threadId;
      sessionStorage.setItem("brandcrew.thread", this.threadId);
    }
    return this.threadId;
  },
};

function emptyChat() {
  const suggestions = [
    "Plan next week's posts for our autumn blend",
    "Write an Instagram caption about cold brew",
    "How did last week's posts perform?",
  ];
  return h(
    "div",
    { class: "chat-empty" },
    h("p", { text: "Start a conversation. The strategy agent leads, and brings in content, analytics or trends as needed." }),
    h(
      "div",
      { class: "suggestions" },
      suggestions.map((text) =>
        h("button", {
          type: "button",
          text,
          onclick: () => {
            $("#chat-input").value = text;
            $("#chat-input").focus();
          },
        }),
      ),
    ),
  );
}

/** One assistant turn in the log: the streamed answer, what is happening, then agents/models/cost. */
class Turn {
  constructor() {
    this.answer = h("div", { class: "answer", "aria-live": "polite", "aria-busy": "true", "data-role": "answer" });
    this.activity = h("p", { class: "activity", "data-role": "activity", text: "Thinking…" });
    this.extras = h("div");
    this.usage = h("div", { class: "usage", "data-role": "usage", "aria-label": "Agents, models and cost of this answer" });
    this.el = h("article", { class: "msg assistant", "aria-label": "Answer" }, this.answer, this.activity, this.extras, this.usage);
    this.runIds = [];
    this.agents = new Set(); // from the final answer's metadata; the ledger adds the ones that called a model
    this.texts = new Map();
    this.current = null;
  }

  /** Say who is working right now (names from the stream; the usage line lists who worked). */
  working(name) {
    if (name && !["supervisor", "LangGraph"].includes(name)) {
      this.activity.textContent = `${name.replaceAll("_", " ")} is working…`;
    }
  }

  token(id, text) {
    if (!text) return;
    const key = id ?? "_";
    this.texts.set(key, (this.texts.get(key) ?? "") + text);
    this.current = key;
    this.answer.textContent = this.texts.get(key);
    scrollChat();
  }

  final(text) {
    if (text) this.answer.textContent = text;
  }

  done() {
    this.answer.setAttribute("aria-busy", "false");
    this.activity.textContent = "";
    const text = this.answer.textContent;
    if (text) {
      this.answer.replaceChildren(...renderMarkdown(text));
      this.answer.classList.add("rendered");
    } else {
      this.answer.textContent = "(no answer)";
    }
  }
}

function scrollChat() {
  const log = $("#chat-log");
  log.scrollTop = log.scrollHeight;
}

let runScopes = null;

/** The tool scopes a chat run asks for: what the signed-in role may grant, so a marketer who may
 * publish or reply can have the team schedule or answer, always behind an approval in the chat. */
async function chatScopes() {
  if (!runScopes) {
    const perms = new Set((await api("/api/auth/me"))?.permissions ?? []);
    runScopes = ["read"];
    if (perms.has("post:create")) runScopes.push("write");
    if (perms.has("post:publish")) runScopes.push("publish");
    if (perms.has("inbox:reply")) runScopes.push("reply");
  }
  return runScopes;
}

/** Stream one run (a new message or a resume) into `turn`; returns the interrupts it paused on. */
async function streamRun(turn, body) {
  const threadId = await chat.ensureThread();
  const scopes = await chatScopes();
  const res = await apiFetch(`/threads/${encodeURIComponent(threadId)}/runs/stream`, {
    method: "POST",
    headers: { Accept: "text/event-stream" },
    body: {
      assistant_id: "supervisor",
      stream_mode: ["messages-tuple", "values", "updates"],
      stream_subgraphs: true,
      config: { configurable: { allowed_scopes: scopes } },
      ...body,
    },
  });
  const interrupts = new Map();
  let finalText = null;
  let earlier = null;
  for await (const { event, data } of readEvents(res)) {
    const [mode, ...ns] = event.split("|");
    const namespace = ns.join("|");
    if (mode === "metadata" && data?.run_id) {
      turn.runIds.push(data.run_id);
    } else if (mode === "messages" && Array.isArray(data)) {
      const [chunk, meta] = data;
      if (namespace) turn.working(meta?.lc_agent_name);
      if (isAi(chunk)) turn.token(chunk.id, textOf(chunk.content));
    } else if (mode === "updates" && data && typeof data === "object") {
      for (const item of data.__interrupt__ ?? []) interrupts.set(item.id, item);
    } else if (mode === "values" && data && typeof data === "object") {
      for (const item of data.__interrupt__ ?? []) interrupts.set(item.id, item);
      if (!namespace && Array.isArray(data.messages)) {
        // The first state of the run holds the earlier turns: their answers are not this one.
        if (!earlier) earlier = new Set(data.messages.map((m) => m.id));
        const last = data.messages[data.messages.length - 1];
        if (isAi(last) && !earlier.has(last.id)) {
          finalText = textOf(last.content);
          for (const name of last.response_metadata?.agents ?? []) turn.agents.add(String(name));
        }
      }
    } else if (mode === "error") {
      throw new Error(data?.message ?? data?.error ?? "the run failed");
    } else if (mode === "end") {
      break;
    }
  }
  if (finalText !== null && interrupts.size === 0) turn.final(finalText);
  return [...interrupts.values()];
}

/** A tool call's arguments, one row each; text stays text, anything else is shown as JSON. */
function argsList(args) {
  if (!args || typeof args !== "object") return null;
  return h(
    "dl",
    { class: "args" },
    Object.entries(args).map(([key, value]) =>
      h(
        "div",
        {},
        h("dt", { text: key.replaceAll("_", " ") }),
        h("dd", { text: typeof value === "string" ? value : JSON.stringify(value, null, 2) }),
      ),
    ),
  );
}

/** Ask the person about each pending approval inside the chat; resolves with the resume payload. */
function askApproval(turn, interrupts) {
  return new Promise((resolve) => {
    const answers = {};
    for (const item of interrupts) {
      const value = item.value ?? {};
      const reasonId = `reason-${item.id}`;
      const reason = h("input", { id: reasonId, type: "text", placeholder: "Reason (optional)" });
      const status = h("p", { class: "decided", role: "status" });
      const decide = (approved) => {
        for (const b of card.querySelectorAll("button, input")) b.disabled = true;
        status.textContent = approved ? "Approved — continuing…" : "Rejected — continuing…";
        const text = reason.value.trim();
        answers[item.id] = { approved, reviewer: "web", ...(text ? { reason: text } : {}) };
        if (Object.keys(answers).length === interrupts.length) resolve(answers);
      };
      const agent = String(value.agent ?? "An agent").replaceAll("_", " ");
      const tool = String(value.tool ?? "an action").replaceAll("_", " ");
      const card = h(
        "section",
        { class: "interrupt", "aria-label": "Approval needed", "data-interrupt": item.id },
        h("h3", { text: "Approval needed" }),
        h("p", {}, h("strong", { text: agent }), " wants to ", h("strong", { text: tool }), "."),
        argsList(value.args),
        h(
          "div",
          { class: "actions" },
          h("label", { for: reasonId, class: "visually-hidden", text: "Reason" }),
          reason,
          h("button", { type: "button", class: "ok", text: "Approve", onclick: () => decide(true) }),
          h("button", { type: "button", class: "danger", text: "Reject", onclick: () => decide(false) }),
        ),
        status,
      );
      turn.extras.append(card);
    }
    turn.activity.textContent = "Waiting for your approval…";
    turn.answer.setAttribute("aria-busy", "false");
    scrollChat();
    focusApproval(turn);
  });
}

function focusApproval(turn) {
  turn.extras.querySelector(".interrupt:last-child button.ok")?.focus();
}

/** Agents, models and cost of a run: from the run's metadata, or the cost ledger. */
async function usageOf(runId) {
  const tid = encodeURIComponent(chat.threadId);
  try {
    const run = await api(`/threads/${tid}/runs/${encodeURIComponent(runId)}`);
    const usage = run?.metadata?.usage;
    if (usage) return usage;
  } catch {
    // fall back to the ledger
  }
  try {
    return await api(`/api/costs/runs/${encodeURIComponent(runId)}`);
  } catch {
    return null;
  }
}

/** A name from a usage entry: a plain string, or a ledger row grouped by agent or model. */
const nameOf = (x) => (typeof x === "string" ? x : pick(pick(x, "group") ?? x, "agent", "model", "name") ?? "");

async function showUsage(turn) {
  const usages = (await Promise.all(turn.runIds.map(usageOf))).filter(Boolean);
  const agents = new Set(turn.agents);
  const models = new Set();
  let cost = 0;
  let known = usages.length > 0;
  for (const usage of usages) {
    for (const a of usage.agents ?? []) if (nameOf(a)) agents.add(nameOf(a));
    for (const m of usage.models ?? []) if (nameOf(m)) models.add(nameOf(m));
    const c = usd(pick(usage, "cost_usd", "costUsd"));
    if (c === null) known = false;
    else cost += c;
  }
  agents.delete("supervisor");
  const chips = [h("span", { class: "chip label", text: "Agents" })];
  for (const a of agents) chips.push(h("span", { class: "chip", "data-agent": a, text: a.replaceAll("_", " ") }));
  if (!agents.size) chips.push(h("span", { class: "chip", text: "supervisor" }));
  chips.push(h("span", { class: "chip label", text: "Models" }));
  for (const m of models) chips.push(h("span", { class: "chip model", text: m }));
  if (!models.size) chips.push(h("span", { class: "chip model", text: "none" }));
  chips.push(h("span", { class: "chip label", text: "Cost" }));
  chips.push(h("span", { class: "chip cost", "data-role": "cost", text: known ? money(cost) : "unknown" }));
  turn.usage.replaceChildren(...chips);
}

async function sendMessage(text) {
  if (chat.busy) return;
  chat.busy = true;
  $("#chat-send").disabled = true;
  const log = $("#chat-log");
  log.querySelector(".chat-empty")?.remove();
  log.append(h("div", { class: "msg user", "aria-label": "You", text }));
  const turn = new Turn();
  log.append(turn.el);
  scrollChat();
  try {
    let interrupts = await streamRun(turn, { input: { messages: [{ type: "human", content: text }] } });
    while (interrupts.length) {
      const resume = await askApproval(turn, interrupts);
      turn.answer.setAttribute("aria-busy", "true");
      turn.activity.textContent = "Continuing…";
      interrupts = await streamRun(turn, { command: { resume } });
    }
    turn.done();
    await showUsage(turn);
  } catch (err) {
    turn.done();
    const message =
      err instanceof ApiError && (err.status === 404 || err.status === 405)
        ? "Chat is not available on this server yet."
        : `Something went wrong: ${err.message}`;
    turn.extras.append(h("p", { class: "error-text", role: "alert", text: message }));
  } finally {
    chat.busy = false;
    $("#chat-send").disabled = false;
    scrollChat();
  }
}

$("#chat-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("#chat-input");
  const text = input.value.trim();
  if (!text || chat.busy) return;
  input.value = "";
  sendMessage(text);
});
$("#chat-input").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    $("#chat-form").requestSubmit();
  }
});
$("#new-thread").addEventListener("click", () => {
  if (!chat.busy) chat.reset();
});

loaders.chat = () => {
  const log = $("#chat-log");
  if (!log.childElementCount) log.append(emptyChat());
};

// ---------------------------------------------------------------- approvals

const PENDING = "/api/approvals?status=pending&limit=100";

async function refreshApprovalCount(body) {
  try {
    const page = body ?? (await api(PENDING));
    const total = Number(pick(page, "total") ?? listOf(page, "approvals").length);
    const count = $("#approvals-count");
    count.textContent = String(total);
    count.hidden = total === 0;
    count.setAttribute("aria-label", `${total} pending`);
  } catch {
    $("#approvals-count").hidden = true;
  }
}

function approvalCard(item) {
  const id = String(item.id);
  const text = String(pick(item, "text", "content") ?? "");
  const platforms = [...new Set([pick(item, "platform"), ...(pick(item, "platforms") ?? [])].filter(Boolean))];
  const cycle = pick(item, "cycle");
  const textId = `approval-text-${token(id)}`;
  const reasonId = `approval-reason-${token(id)}`;
  // Tall enough for the whole post (long lines wrap at about 90 characters).
  const rows = text.split("\n").reduce((n, line) => n + Math.max(1, Math.ceil(line.length / 90)), 0);
  const textarea = h("textarea", { id: textId, readonly: true, rows: Math.min(12, Math.max(3, rows)) });
  textarea.value = text;
  const reason = h("input", { id: reasonId, type: "text", placeholder: "Why is this rejected?" });
  const reasonRow = h(
    "div",
    { class: "actions", hidden: true },
    h("label", { for: reasonId, class: "visually-hidden", text: "Reason for rejecting" }),
    reason,
  );
  const status = h("p", { class: "status", role: "status" });
  const buttons = h("div", { class: "actions" });
  const card = h(
    "li",
    { class: "card approval", "data-id": id, "aria-label": `Approval for ${pick(item, "resource") ?? "item"} ${id}` },
    h(
      "header",
      {},
      platforms.map((p) => h("span", { class: `badge platform ${token(p)}`, text: p })),
      h("span", { class: "badge", text: pick(item, "resource") ?? "item" }),
      h(
        "span",
        { class: "meta" },
        [
          when(pick(item, "createdAt")),
          pick(item, "campaignId") ? campaignNames.get(String(pick(item, "campaignId"))) ?? `campaign ${pick(item, "campaignId")}` : null,
          cycle !== undefined ? `cycle ${Number(cycle) + 1}` : null,
          pick(item, "requestedBy") ? `from ${pick(item, "requestedBy")}` : null,
        ]
          .filter(Boolean)
          .join(" · "),
      ),
    ),
    pick(item, "reason") ? h("p", { class: "why", text: `Needs review: ${pick(item, "reason")}` }) : null,
    h("label", { for: textId, class: "visually-hidden", text: "Post text" }),
    textarea,
    reasonRow,
    buttons,
    status,
  );

  const act = async (path, body, doneText) => {
    for (const b of card.querySelectorAll("button, textarea, input")) b.disabled = true;
    setStatus(status, "Saving…");
    try {
      await api(`/api/approvals/${encodeURIComponent(id)}/${path}`, { method: "POST", body });
      toast(doneText);
      card.remove();
      const left = $("#approvals-list").querySelectorAll("li.approval").length;
      if (!left) $("#approvals-list").append(h("li", { class: "empty", text: "Nothing is waiting for approval." }));
      refreshApprovalCount();
    } catch (err) {
      for (const b of card.querySelectorAll("button, textarea, input")) b.disabled = false;
      setStatus(status, `Could not save: ${err.message}`, true);
    }
  };

  const normal = () => {
    textarea.readOnly = true;
    textarea.value = text;
    reasonRow.hidden = true;
    setStatus(status, "");
    buttons.replaceChildren(
      h("button", { type: "button", class: "primary", text: "Approve", onclick: () => act("approve", {}, "Approved") }),
      h("button", { type: "button", text: "Edit", onclick: editing }),
      h("button", { type: "button", class: "danger", text: "Reject", onclick: rejecting }),
    );
  };
  const editing = () => {
    textarea.readOnly = false;
    textarea.focus();
    buttons.replaceChildren(
      h("button", {
        type: "button",
        class: "primary",
        text: "Save and approve",
        onclick: () => {
          const edited = textarea.value.trim();
          if (!edited) return setStatus(status, "The text cannot be empty.", true);
          act("edit", { text: edited }, "Edited and approved");
        },
      }),
      h("button", { type: "button", text: "Cancel", onclick: normal }),
    );
  };
  const rejecting = () => {
    reasonRow.hidden = false;
    reason.focus();
    buttons.replaceChildren(
      h("button", {
        type: "button",
        class: "danger",
        text: "Confirm reject",
        onclick: () => {
          const why = reason.value.trim();
          if (!why) return setStatus(status, "Give a reason so the team can learn from it.", true);
          act("reject", { reason: why }, "Rejected");
        },
      }),
      h("button", { type: "button", text: "Cancel", onclick: normal }),
    );
  };
  normal();
  return card;
}

loaders.approvals = async () => {
  const list = $("#approvals-list");
  const status = $("#approvals-status");
  setStatus(status, "Loading…");
  try {
    const [body] = await Promise.all([api(PENDING), loadCampaignNames()]);
    const items = listOf(body, "approvals");
    const total = Number(pick(body, "total") ?? items.length);
    setStatus(status, total > items.length ? `Showing the oldest ${items.length} of ${total}.` : "");
    list.replaceChildren(
      ...(items.length ? items.map(approvalCard) : [h("li", { class: "empty", text: "Nothing is waiting for approval." })]),
    );
    refreshApprovalCount(body);
  } catch (err) {
    list.replaceChildren();
    setStatus(status, failure("The approvals queue", err), true);
  }
};
$("#approvals-refresh").addEventListener("click", () => loaders.approvals());

// ---------------------------------------------------------------- calendar

const cal = { view: "week", anchor: new Date() };
const DAY = 24 * 60 * 60 * 1000;

function startOfDay(d) {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate());
}
function addDays(d, n) {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() + n);
}
function mondayOf(d) {
  const day = startOfDay(d);
  return addDays(day, -((day.getDay() + 6) % 7));
}
function dayKey(d) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** The first and last (exclusive) days the grid shows. */
function calendarRange() {
  if (cal.view === "week") {
    const start = mondayOf(cal.anchor);
    return [start, addDays(start, 7)];
  }
  const first = new Date(cal.anchor.getFullYear(), cal.anchor.getMonth(), 1);
  const last = new Date(cal.anchor.getFullYear(), cal.anchor.getMonth() + 1, 0);
  return [mondayOf(first), addDays(mondayOf(last), 7)];
}

function calendarTitle(start, end) {
  if (cal.view === "month") {
    return new Intl.DateTimeFormat(undefined, { month: "long", year: "numeric" }).format(cal.anchor);
  }
  return `${dateFmt.format(start)} – ${dateFmt.format(addDays(end, -1))}`;
}

/** What a publish's outbox status means to a marketer. */
const PUBLISH_STATES = { pending: "scheduled", publishing: "publishing", published: "published", failed: "failed", unknown: "checking" };

function postChip(item) {
  const platform = String(pick(item, "platform") ?? "");
  const status = String(pick(item, "status") ?? "");
  const state = PUBLISH_STATES[status] ?? status;
  const text = String(pick(item, "text") ?? "");
  return h(
    "div",
    {
      class: `post ${token(platform)} ${token(status)}`,
      role: "listitem",
      "data-post-id": pick(item, "postId", "post_id"),
      title: text,
    },
    h(
      "div",
      { class: "time" },
      h("span", {}, when(pick(item, "at"), timeFmt), " ", h("span", { class: `badge platform ${token(platform)}`, text: platform })),
      h("span", { class: "state", text: state }),
    ),
    h("div", { class: "text", text }),
  );
}

loaders.calendar = async () => {
  const grid = $("#calendar-grid");
  const status = $("#calendar-status");
  const [start, end] = calendarRange();
  $("#cal-range").textContent = calendarTitle(start, end);
  $("#cal-week").setAttribute("aria-pressed", String(cal.view === "week"));
  $("#cal-month").setAttribute("aria-pressed", String(cal.view === "month"));
  grid.className = `calendar ${cal.view}`;
  setStatus(status, "Loading…");
  let items = [];
  try {
    const query = new URLSearchParams({ start: start.toISOString(), end: end.toISOString() });
    items = listOf(await api(`/api/posts/calendar?${query}`), "calendar", "posts");
    setStatus(status, items.length ? "" : "Nothing scheduled in this period.");
  } catch (err) {
    setStatus(status, failure("The calendar", err), true);
  }
  const byDay = new Map();
  for (const item of items) {
    const at = new Date(pick(item, "at", "scheduledAt", "publishedAt"));
    if (Number.isNaN(at.getTime())) continue;
    const key = dayKey(at);
    if (!byDay.has(key)) byDay.set(key, []);
    byDay.get(key).push(item);
  }
  const today = dayKey(new Date());
  const weekday = new Intl.DateTimeFormat(undefined, { weekday: "short" });
  const longDay = new Intl.DateTimeFormat(undefined, { weekday: "long", day: "numeric", month: "long" });
  const cells = [];
  for (let i = 0; i < 7; i++) cells.push(h("div", { class: "dow", "aria-hidden": "true", text: weekday.format(addDays(start, i)) }));
  for (let d = start; d < end; d = addDays(d, 1)) {
    const key = dayKey(d);
    const posts = (byDay.get(key) ?? []).sort((a, b) => new Date(a.at) - new Date(b.at));
    const outside = cal.view === "month" && d.getMonth() !== cal.anchor.getMonth();
    const label = cal.view === "week" ? `${weekday.format(d)} ${d.getDate()}` : String(d.getDate());
    cells.push(
      h(
        "div",
        {
          class: `day${key === today ? " today" : ""}${outside ? " outside" : ""}`,
          role: "listitem",
          "data-date": key,
          "aria-label": `${longDay.format(d)}: ${posts.length} post${posts.length === 1 ? "" : "s"}`,
        },
        h("span", { class: "date", text: label }),
        posts.length ? h("div", { role: "list" }, posts.map(postChip)) : null,
      ),
    );
  }
  grid.replaceChildren(...cells);
  const platforms = [...new Set(items.map((i) => String(pick(i, "platform") ?? "")).filter(Boolean))].sort();
  $("#calendar-legend").replaceChildren(...platforms.map((p) => h("span", { class: token(p), text: p })));
};

$("#cal-prev").addEventListener("click", () => {
  cal.anchor = cal.view === "week" ? addDays(cal.anchor, -7) : new Date(cal.anchor.getFullYear(), cal.anchor.getMonth() - 1, 1);
  loaders.calendar();
});
$("#cal-next").addEventListener("click", () => {
  cal.anchor = cal.view === "week" ? addDays(cal.anchor, 7) : new Date(cal.anchor.getFullYear(), cal.anchor.getMonth() + 1, 1);
  loaders.calendar();
});
$("#cal-today").addEventListener("click", () => {
  cal.anchor = new Date();
  loaders.calendar();
});
$("#cal-week").addEventListener("click", () => {
  cal.view = "week";
  loaders.calendar();
});
$("#cal-month").addEventListener("click", () => {
  cal.view = "month";
  loaders.calendar();
});

// ---------------------------------------------------------------- campaigns and spend

function progressBar(fraction, label) {
  const pct = Math.max(0, Math.min(1, fraction)) * 100;
  const cls = fraction > 1 ? "bar over" : fraction >= 0.8 ? "bar high" : "bar";
  const bar = h("div", { class: cls, role: "progressbar", "aria-label": label, "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": Math.round(pct) });
  const fill = h("span");
  fill.style.width = `${pct}%`;
  bar.append(fill);
  return bar;
}

function progressRow(label, valueText, fraction) {
  return h(
    "div",
    { class: "goal" },
    h("div", { class: "line" }, h("span", { text: label }), h("span", { text: valueText })),
    progressBar(fraction, `${label} progress`),
  );
}

function campaignItem(campaign, run, spent) {
  const status = String(pick(campaign, "status") ?? pick(run ?? {}, "status") ?? "");
  const start = when(pick(campaign, "startDate"), dateFmt);
  const end = when(pick(campaign, "endDate"), dateFmt);
  const budget = usd(pick(campaign, "budgetUsd") ?? pick(run ?? {}, "budgetUsd"));
  const spend = usd(pick(run ?? {}, "spendUsd")) ?? spent ?? null;
  const progress = [];
  for (const goal of pick(campaign, "goals") ?? []) {
    const target = Number(pick(goal, "target"));
    const current = Number(pick(goal, "current") ?? 0);
    if (!target) continue;
    const metric = String(pick(goal, "metric") ?? "goal").replaceAll("_", " ");
    progress.push(progressRow(metric, `${current.toLocaleString()} / ${target.toLocaleString()}`, current / target));
  }
  if (run) {
    const cycles = Number(pick(run, "cycles") ?? 0);
    const done = Math.min(Number(pick(run, "nextCycle") ?? 0), cycles);
    if (cycles) progress.push(progressRow("autopilot cycles", `${done} / ${cycles}`, done / cycles));
  }
  if (budget) progress.push(progressRow("budget", `${money(spend ?? 0)} / ${money(budget)}`, (spend ?? 0) / budget));
  const facts = [start && end ? `${start} – ${end}` : start || end];
  if (run) facts.push(`${pick(run, "postsPublished") ?? 0} of ${pick(run, "posts") ?? 0} posts published`);
  if (spend !== null) facts.push(`AI spend ${money(spend)}`);
  const reason = pick(campaign, "pausedReason") ?? pick(run ?? {}, "pausedReason");
  return h(
    "li",
    { class: "campaign", "data-campaign-id": pick(campaign, "id") },
    h(
      "div",
      {},
      h(
        "div",
        { class: "name" },
        h("span", { text: pick(campaign, "name") ?? pick(campaign, "id") ?? "Campaign" }),
        status ? h("span", { class: `badge status-${token(status)}`, text: status }) : null,
        run ? h("span", { class: "badge", text: "autopilot" }) : null,
      ),
      h("div", { class: "sub", text: facts.filter(Boolean).join(" · ") }),
      reason ? h("div", { class: "sub", text: `Paused: ${reason}` }) : null,
    ),
    h("div", {}, progress.length ? progress : h("div", { class: "sub", text: "No goals or budget set." })),
  );
}


async function loadCampaigns() {
  const status = $("#campaigns-status");
  const list = $("#campaign-list");
  setStatus(status, "Loading…");
  try {
    const [campaigns, runs, spend] = await Promise.all([
      api("/api/campaigns").then((b) => listOf(b, "campaigns")),
      api("/api/campaigns/autopilot")
        .then((b) => listOf(b, "runs"))
        .catch(() => []),
      api("/api/costs?groupBy=campaign")
        .then((b) => listOf(b, "rows"))
        .catch(() => []),
    ]);
    const runOf = new Map(runs.map((r) => [String(pick(r, "campaignId")), r]));
    const spentOf = new Map(spend.map((r) => [String(pick(pick(r, "group") ?? {}, "campaign")), usd(pick(r, "costUsd"))]));
    for (const c of campaigns) campaignNames.set(String(c.id), String(c.name ?? c.id));
    setStatus(status, campaigns.length ? "" : "No campaigns yet.");
    list.replaceChildren(...campaigns.map((c) => campaignItem(c, runOf.get(String(c.id)), spentOf.get(String(c.id)))));
  } catch (err) {
    list.replaceChildren();
    setStatus(status, failure("Campaigns", err), true);
  }
}

function figure(label, value, sub, role) {
  return h("div", { "data-figure": role }, h("dt", { text: label }), h("dd", { text: value }), sub ? h("p", { class: "fig-sub", text: sub }) : null);
}

function budgetLabel(budget) {
  const kind = String(pick(budget, "kind") ?? "");
  if (kind === "workspace_day") return "Daily cap";
  if (kind === "workspace_month") return "Monthly cap";
  if (kind === "campaign") return `Campaign: ${campaignNames.get(String(pick(budget, "scopeId"))) ?? pick(budget, "scopeId")}`;
  return kind.replaceAll("_", " ") || "Budget";
}

async function loadSpend() {
  const status = $("#spend-status");
  setStatus(status, "Loading…");
  try {
    const summary = await api("/api/costs/summary");
    setStatus(status, "");
    const calls = (n) => `${Number(n ?? 0).toLocaleString()} call${Number(n) === 1 ? "" : "s"}`;
    const figures = [
      figure("Today", money(usd(pick(summary, "todayUsd"))), calls(pick(summary, "todayCalls")), "today"),
      figure("This month", money(usd(pick(summary, "monthUsd"))), calls(pick(summary, "monthCalls")), "month"),
    ];
    const unpriced = Number(pick(summary, "unpricedCalls") ?? 0);
    figures.push(figure("Unpriced calls", unpriced.toLocaleString(), unpriced ? "cost unknown, not zero" : "every call priced", "unpriced"));
    $("#spend-figures").replaceChildren(...figures);
    const budgets = listOf(pick(summary, "budgets") ?? []);
    $("#budgets").replaceChildren(
      ...budgets.map((b) => {
        const limit = usd(pick(b, "limitUsd"));
        const spent = usd(pick(b, "spentUsd")) ?? 0;
        const label = budgetLabel(b);
        return h(
          "div",
          { class: "budget-row", "data-budget": pick(b, "kind") },
          h("div", { class: "line" }, h("span", { text: label }), h("span", { text: limit === null ? `${money(spent)} · no cap` : `${money(spent)} of ${money(limit)}` })),
          limit ? progressBar(spent / limit, `${label} used`) : null,
        );
      }),
    );
    if (!budgets.length) $("#budgets").replaceChildren(h("p", { class: "muted", text: "No budgets set." }));
  } catch (err) {
    $("#spend-figures").replaceChildren();
    $("#budgets").replaceChildren();
    setStatus(status, failure("AI spend", err), true);
  }
}

async function loadBreakdown() {
  const status = $("#breakdown-status");
  const table = $("#breakdown-table");
  setStatus(status, "Loading…");
  try {
    const body = await api("/api/costs?groupBy=agent,model");
    const rows = listOf(body, "rows");
    setStatus(status, rows.length ? "" : "No AI calls yet.");
    const head = h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", { scope: "col", text: "Agent" }),
        h("th", { scope: "col", text: "Model" }),
        h("th", { scope: "col", class: "num", text: "Calls" }),
        h("th", { scope: "col", class: "num", text: "Tokens" }),
        h("th", { scope: "col", class: "num", text: "Cost" }),
      ),
    );
    const tbody = h(
      "tbody",
      {},
      rows.map((r) => {
        const group = pick(r, "group") ?? {};
        const tokens = ["inputTokens", "cacheReadTokens", "cacheWriteTokens", "outputTokens", "reasoningTokens"].reduce((n, k) => n + Number(r[k] ?? 0), 0);
        const unpriced = Number(pick(r, "unpricedCalls") ?? 0);
        const cost = money(usd(pick(r, "costUsd")));
        return h(
          "tr",
          { "data-agent": pick(group, "agent") ?? "" },
          h("td", { text: String(pick(group, "agent") ?? "–").replaceAll("_", " ") }),
          h("td", { text: pick(group, "model") ?? "–" }),
          h("td", { class: "num", text: String(pick(r, "calls") ?? "") }),
          h("td", { class: "num", text: tokens.toLocaleString() }),
          h("td", { class: "num", text: unpriced ? `${cost} + ${unpriced} unpriced` : cost }),
        );
      }),
    );
    const foot = rows.length
      ? h(
          "tfoot",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "row", colspan: 2, text: "Total" }),
            h("td", { class: "num", text: String(pick(body, "calls") ?? "") }),
            h("td"),
            h("td", { class: "num", text: money(usd(pick(body, "totalUsd"))) }),
          ),
        )
      : null;
    table.replaceChildren(head, tbody, ...(foot ? [foot] : []));
  } catch (err) {
    table.replaceChildren();
    setStatus(status, failure("The spend breakdown", err), true);
  }
}

loaders.campaigns = async () => {
  await loadCampaigns(); // first: budgets name campaigns
  await Promise.all([loadSpend(), loadBreakdown()]);
};
$("#campaigns-refresh").addEventListener("click", () => loaders.campaigns());

// ---------------------------------------------------------------- start

async function start() {
  loadTokens();
  if (!auth.accessToken && !auth.refreshToken) return showLogin();
  try {
    const me = await api("/api/auth/me");
    if (me?.user) saveTokens({ user: me.user });
    showApp();
  } catch {
    if (!$("#app-view").hidden || $("#login-view").hidden) showLogin();
  }
}

start();
