// The shared live model: stations (from GET /Summary, then kept current by the
// live feeds), the recent frames, and subscribers told of every change.
import { get, enc } from "./api.js";
import { Feed } from "./live.js";

export const state = {
  stations: new Map(),
  summary: null,
  frames: [],
  live: false,
  emulated: null,
  clockSkew: 0,
};

const MAX_FRAMES = 2000;
const subscribers = new Set();

/** fn(kind, data) on "summary", "station" (identity), "frame", "meter", "live". */
export function subscribe(fn) {
  subscribers.add(fn);
  return () => subscribers.delete(fn);
}

function emit(kind, data) {
  for (const fn of [...subscribers]) {
    try { fn(kind, data); } catch (e) { console.error(e); }
  }
}

export async function loadSummary() {
  const summary = await get("/Summary");
  state.summary = summary;
  state.clockSkew = new Date(summary.serverTime) - Date.now();
  state.stations = new Map(summary.Stations.map((s) => [s.identity, s]));
  emit("summary");
  return summary;
}

const pending = new Map();
/** Fetch one station again (debounced per station). */
export function refreshStation(identity, delay = 150) {
  clearTimeout(pending.get(identity));
  pending.set(identity, setTimeout(async () => {
    pending.delete(identity);
    try {
      const station = await get(`/ChargePoint/${enc(identity)}`);
      const old = state.stations.get(identity) || {};
      state.stations.set(identity, { ocppVersion: "1.6", protocol: "JSON", ...old, ...station });
      emit("station", identity);
    } catch (e) { /* gone or not allowed: keep what we have */ }
  }, delay));
}

let summaryTimer = null;
let summaryAt = 0;
/** Refresh the counts and energy (not the stations), at most every 5 s. */
function refreshSummarySoon() {
  if (summaryTimer) return;
  const wait = Math.max(1500, summaryAt + 5000 - Date.now());
  summaryTimer = setTimeout(async () => {
    summaryTimer = null;
    summaryAt = Date.now();
    try {
      const s = await get("/Summary?stations=false");
      state.summary = { ...state.summary, ...s };
      emit("summary-counts");
    } catch (e) { /* ignore */ }
  }, wait);
}

function onFrame(frame) {
  state.frames.unshift(frame);
  if (state.frames.length > MAX_FRAMES) state.frames.length = MAX_FRAMES;
  emit("frame", frame);
}

/** A station event from /ws/events (see ocppcs/web/eventfeed.py). */
function onEvent(event) {
  const id = event.identity;
  const station = state.stations.get(id);
  if (!station) { refreshStation(id, 300); return; }
  if (event.type !== "connection") station.lastSeen = event.ts;
  if (event.type === "connection") {
    station.online = event.online;
    if (event.address) station.address = event.address;
    if (event.protocol) Object.assign(station, { protocol: event.protocol, ocppVersion: event.ocppVersion });
    if (event.online) station.lastSeen = event.ts;
    emit("station", id);
  } else if (event.type === "status") {
    if (!station.online) station.online = true;
    const list = (station.connectors ||= []);
    const c = list.find((x) => x.connectorId === event.connectorId);
    const update = { connectorId: event.connectorId, status: event.status, errorCode: event.errorCode,
      info: event.info, timestamp: event.ts, updated: event.ts };
    if (c) Object.assign(c, update);
    else { list.push(update); list.sort((a, b) => a.connectorId - b.connectorId); }
    emit("station", id);
  } else if (event.type === "meter") {
    emit("meter", event);
    emit("station-seen", id);
  } else if (event.type === "boot" || event.type === "transaction") {
    refreshStation(id);
    refreshSummarySoon();
  }
}

let feeds = [];
let reconnecting = false;
/** Open the live feeds (after login), and load the recent frames. */
export async function start() {
  stop();
  const states = { log: false, events: false };
  const setLive = (name) => (up) => {
    states[name] = up;
    state.live = states.log && states.events;
    emit("live", state.live);
    // After a gap, catch up on what the events missed.
    if (up && name === "events" && reconnecting) loadSummary().catch(() => {});
    if (up && name === "events") reconnecting = true;
  };
  feeds = [new Feed("/ws/log", onFrame, setLive("log")), new Feed("/ws/events", onEvent, setLive("events"))];
  try {
    const history = await get("/Log?limit=300");
    const seen = new Set(state.frames.map((f) => f.uniqueId + f.direction + f.ts));
    for (const f of history.Log) if (!seen.has(f.uniqueId + f.direction + f.ts)) state.frames.push(f);
    state.frames.sort((a, b) => (a.ts < b.ts ? 1 : a.ts > b.ts ? -1 : 0));
    emit("frame", null);
  } catch (e) { /* the log page shows the error */ }
}

export function stop() {
  feeds.forEach((f) => f.close());
  feeds = [];
}

/** The emulated stations of this process (identity -> snapshot), once. */
export async function emulated() {
  if (state.emulated) return state.emulated;
  try {
    const list = await get("/Emulator/StationList?limit=1000");
    state.emulated = new Map(list.map((s) => [s.identity, s]));
  } catch (e) {
    state.emulated = new Map();
  }
  return state.emulated;
}
