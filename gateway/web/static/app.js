// Itinera's booking page: sign in, search, hold, pay, watch, cancel. Only /v1/* on this origin
// (and Cognito's token endpoint where the deployment signs in through its hosted UI).
"use strict";

const $ = (id) => document.getElementById(id);
const SESSION = "itinera.session";
const PKCE = "itinera.pkce";
const POLL_MS = 1000;
const POLL_LIMIT_MS = 90000;

const state = {
  config: null,
  session: null,      // {token, name, expires}
  trip: [],           // [{item, label}] the next hold's items
  hold: null,
  holdKey: null,      // {body, key}: a repeated POST /v1/holds answers the same hold
  payKey: null,       // {body, key}: a repeated POST /v1/bookings answers the same booking
  clockOffset: 0,     // server time minus this browser's, from the Date header
  timer: null,
};

// ----------------------------------------------------------------- the API

class ApiError extends Error {
  constructor(status, problem, retryAfter) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
    this.retryAfter = retryAfter;
  }
}

async function api(method, path, { body, auth = false, key } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (auth) headers.Authorization = `Bearer ${state.session.token}`;
  if (key) headers["Idempotency-Key"] = key;
  let resp;
  try {
    resp = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, { code: "network" });
  }
  const date = Date.parse(resp.headers.get("Date") || "");
  if (!Number.isNaN(date)) state.clockOffset = date - Date.now();
  const type = resp.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await resp.json().catch(() => null) : null;
  if (!resp.ok) throw new ApiError(resp.status, data || {}, resp.headers.get("Retry-After"));
  return data;
}

function randomKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// The same body keeps its key, so a retry after a lost answer is answered, not repeated.
function keyFor(slot, body) {
  const text = JSON.stringify(body);
  if (!state[slot] || state[slot].body !== text) state[slot] = { body: text, key: randomKey() };
  return state[slot].key;
}

// ------------------------------------------------------------ messages

function say(text) {
  $("alert").textContent = "";
  $("status").textContent = text;
}

function complain(text, details = []) {
  $("status").textContent = "";
  const box = $("alert");
  box.textContent = text;
  if (details.length) {
    const list = document.createElement("ul");
    for (const line of details) list.append(el("li", {}, line));
    box.append(list);
  }
}

const RETRY = (err) => (err.retryAfter ? ` Try again in ${err.retryAfter} s.` : " Try again in a moment.");

function explain(err) {
  const p = err.problem || {};
  switch (p.code) {
    case "network": return "Itinera cannot be reached. Check your connection and try again.";
    case "sold_out": return "Sold out: there are not enough seats or rooms left for this trip, so nothing was held. Choose another flight or room.";
    case "hold_not_active": return "Your hold has expired, so its seats and rooms went back on sale. Search again to hold them anew.";
    case "hold_in_checkout": return "This hold is being paid for; wait for the booking to finish.";
    case "hold_already_booked": return "This hold already has a booking; see Your bookings.";
    case "booking_not_cancellable": return "Only a confirmed booking can be cancelled.";
    case "rate_limited":
    case "too_many_requests": return "Too many requests in a short time." + RETRY(err);
    case "dependency_unavailable":
    case "no_healthy_target":
    case "bad_gateway":
    case "gateway_timeout": return `Part of Itinera is unavailable right now (${p.detail || "service unavailable"}).` + RETRY(err);
    case "unauthorized": return "Your sign-in has expired. Sign in again.";
    default:
      if (err.status >= 500) return "Something went wrong on our side." + RETRY(err);
      return p.detail || p.title || `The request failed (HTTP ${err.status}).`;
  }
}

function fail(err) {
  if (!(err instanceof ApiError)) throw err;
  const details = (err.problem.errors || []).map((e) => `${e.field}: ${e.message}`);
  complain(explain(err), err.problem.code === "unauthorized" ? [] : details);
  if (err.problem.code === "unauthorized") signOut(false);
}

// ------------------------------------------------------------- formatting

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

function money(m) {
  const fmt = new Intl.NumberFormat("en", { style: "currency", currency: m.currency });
  return fmt.format(m.amount / 10 ** fmt.resolvedOptions().maximumFractionDigits);
}

const clock = (iso) => iso.slice(11, 16);
const hours = (min) => `${Math.floor(min / 60)} h ${min % 60} min`;
const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

function isoDay(offsetDays) {
  const d = new Date(Date.now() + offsetDays * 86400000);
  return d.toISOString().slice(0, 10);
}

// Names of flights and hotels by id: from searches, else from their details (once each).
const names = new Map();

function known(kind, id, name) {
  names.set(`${kind}:${id}`, Promise.resolve(name));
}

function itemName(item) {
  const [kind, id] = item.kind === "flight" ? ["flight", item.flight_id] : ["hotel", item.hotel_id];
  const key = `${kind}:${id}`;
  if (!names.has(key)) {
    names.set(key, (async () => {
      try {
        if (kind === "hotel") return (await api("GET", `/v1/hotels/${id}`)).name;
        const f = await api("GET", `/v1/flights/${id}`);
        return flightName(f);
      } catch {
        names.delete(key);
        return `${kind === "flight" ? "Flight" : "Hotel"} ${id}`;
      }
    })());
  }
  return names.get(key);
}

const flightName = (f) => `${f.flight_no} ${f.origin} to ${f.destination}, ${f.departure_local.slice(0, 10)} ${clock(f.departure_local)}`;

async function describe(item) {
  const name = await itemName(item);
  if (item.kind === "flight") return `${name}, ${item.cabin}, ${plural(item.quantity, "seat", "seats")}`;
  return `${name}, ${item.room_type} room, ${plural(item.rooms, "room", "rooms")}, ${item.check_in} to ${item.check_out}`;
}

function seatsLeft(n, unit) {
  return el("span", { class: n < 5 ? "left low" : "left" }, `${plural(n, unit, unit + "s")} left`);
}

// ---------------------------------------------------------------- sign-in

function loadSession() {
  try {
    const s = JSON.parse(sessionStorage.getItem(SESSION) || "null");
    if (s && s.expires > Date.now() + 30000) return s;
  } catch { /* a damaged entry is a signed-out session */ }
  return null;
}

function signedIn(session) {
  state.session = session;
  sessionStorage.setItem(SESSION, JSON.stringify(session));
  showSession();
  say(`Signed in as ${session.name}.`);
  refreshBookings();
}

function signOut(announce = true) {
  state.session = null;
  sessionStorage.removeItem(SESSION);
  showSession();
  if (announce) say("Signed out.");
}

function showSession() {
  const s = state.session;
  $("who").hidden = !s;
  $("sign-in").hidden = !!s;
  $("bookings").hidden = !s;
  if (s) $("who-name").textContent = s.name;
}

async function localSignIn(event) {
  event.preventDefault();
  const input = $("traveller");
  const name = input.value.trim();
  if (!input.checkValidity() || !name) {
    input.setAttribute("aria-invalid", "true");
    input.focus();
    complain("Enter a traveller name: letters and digits, and . _ @ : + - (no spaces).");
    return;
  }
  input.removeAttribute("aria-invalid");
  try {
    const token = await api("POST", state.config.sign_in.token_url, { body: { name } });
    signedIn({ token: token.access_token, name, expires: Date.now() + token.expires_in * 1000 });
    $("origin").focus();
  } catch (err) { fail(err); }
}

// Cognito's hosted UI: authorization code with PKCE, for a public app client.
async function hostedSignIn() {
  const c = state.config.sign_in;
  const verifier = randomKey() + randomKey();
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  const challenge = btoa(String.fromCharCode(...new Uint8Array(digest)))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const nonce = randomKey();
  sessionStorage.setItem(PKCE, JSON.stringify({ verifier, nonce }));
  const query = new URLSearchParams({
    response_type: "code", client_id: c.client_id, redirect_uri: location.origin + "/",
    scope: c.scope || "openid", state: nonce, code_challenge: challenge,
    code_challenge_method: "S256",
  });
  location.assign(`https://${c.domain}/oauth2/authorize?${query}`);
}

async function finishHostedSignIn() {
  const params = new URLSearchParams(location.search);
  const code = params.get("code");
  if (!code) return;
  history.replaceState(null, "", "/");
  const pkce = JSON.parse(sessionStorage.getItem(PKCE) || "null");
  sessionStorage.removeItem(PKCE);
  if (!pkce || pkce.nonce !== params.get("state")) {
    complain("The sign-in could not be verified; sign in again.");
    return;
  }
  const c = state.config.sign_in;
  const resp = await fetch(`https://${c.domain}/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code", client_id: c.client_id, code,
      redirect_uri: location.origin + "/", code_verifier: pkce.verifier,
    }),
  }).catch(() => null);
  if (!resp || !resp.ok) {
    complain("Sign-in failed; try again.");
    return;
  }
  const token = await resp.json();
  const claims = JSON.parse(atob(token.access_token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
  signedIn({ token: token.access_token, name: claims.username || claims.sub,
    expires: Date.now() + token.expires_in * 1000 });
}

function needSignIn() {
  if (state.session && state.session.expires > Date.now()) return false;
  signOut(false);
  complain("Sign in first: holds and bookings belong to a traveller.");
  (state.config && state.config.sign_in.kind === "local" ? $("traveller") : $("hosted-sign-in")).focus();
  return true;
}

// ----------------------------------------------------------------- search

function formValues(form) {
  const values = Object.fromEntries(new FormData(form));
  for (const input of form.querySelectorAll("input")) input.removeAttribute("aria-invalid");
  const bad = [...form.querySelectorAll("input")].filter((i) => !i.checkValidity());
  for (const input of bad) input.setAttribute("aria-invalid", "true");
  if (bad.length) {
    bad[0].focus();
    complain("Check the highlighted fields.", bad.map((i) => `${i.labels[0].textContent}: ${i.validationMessage}`));
    return null;
  }
  return values;
}

function resultsHeading(box, text) {
  const heading = el("h3", { tabindex: "-1" }, text);
  box.replaceChildren(heading);
  return heading;
}

async function searchFlights(event) {
  event.preventDefault();
  const v = formValues(event.target);
  if (!v) return;
  const query = new URLSearchParams({ origin: v.origin.toUpperCase(), destination: v.destination.toUpperCase(),
    date: v.date, passengers: v.passengers, cabin: v.cabin });
  const box = $("flight-results");
  say("Searching flights…");
  try {
    const page = await api("GET", `/v1/flights?${query}`);
    const heading = resultsHeading(box, `${plural(page.items.length, "flight", "flights")} from ${query.get("origin")} to ${query.get("destination")} on ${v.date}`);
    const list = el("ul");
    for (const f of page.items) {
      const seats = Number(v.passengers);
      const item = { kind: "flight", flight_id: f.id, cabin: f.cabin, quantity: seats };
      known("flight", f.id, flightName(f));
      const label = `${flightName(f)}, ${f.cabin}, ${plural(seats, "seat", "seats")}`;
      list.append(el("li", { class: "offer", "data-flight": f.id },
        el("div", {},
          el("span", { class: "what" }, `${f.flight_no}: ${clock(f.departure_local)} to ${clock(f.arrival_local)}`),
          el("span", { class: "meta" }, `${f.origin} to ${f.destination}, ${hours(f.duration_min)}, ${f.cabin} · `),
          el("span", { class: "price" }, `${money(f.fare)} a seat`), " · ",
          seatsLeft(f.available, "seat")),
        el("button", { type: "button", "aria-label": `Add ${f.flight_no} at ${clock(f.departure_local)} to the trip`,
          onclick: () => addToTrip(item, label) }, "Add to trip")));
    }
    box.append(list);
    say(`${plural(page.items.length, "flight", "flights")} found.`);
    heading.focus();
  } catch (err) { fail(err); }
}

async function searchHotels(event) {
  event.preventDefault();
  const v = formValues(event.target);
  if (!v) return;
  const query = new URLSearchParams({ city: v.city.trim(), check_in: v.check_in, check_out: v.check_out, guests: v.guests });
  const box = $("hotel-results");
  say("Searching hotels…");
  try {
    const page = await api("GET", `/v1/hotels?${query}`);
    const heading = resultsHeading(box, `${plural(page.items.length, "hotel", "hotels")} in ${v.city} from ${v.check_in} to ${v.check_out}`);
    const list = el("ul");
    for (const h of page.items) {
      known("hotel", h.id, h.name);
      const rooms = el("ul");
      for (const r of h.room_types) {
        const item = { kind: "hotel", hotel_id: h.id, room_type: r.code, check_in: h.check_in, check_out: h.check_out, rooms: r.rooms };
        const label = `${h.name}, ${r.name}, ${plural(r.rooms, "room", "rooms")}, ${h.check_in} to ${h.check_out}`;
        rooms.append(el("li", { class: "offer", "data-room": r.code },
          el("div", {},
            el("span", { class: "what" }, r.name),
            el("span", { class: "meta" }, `up to ${r.max_guests} guests a room, ${plural(r.rooms, "room", "rooms")} for ${plural(h.nights, "night", "nights")} · `),
            el("span", { class: "price" }, money(r.price)), " · ",
            seatsLeft(r.available, "room")),
          el("button", { type: "button", "aria-label": `Add ${r.name} at ${h.name} to the trip`,
            onclick: () => addToTrip(item, label) }, "Add to trip")));
      }
      list.append(el("li", { class: "hotel", "data-hotel": h.id },
        el("h4", {}, `${h.name} (${"★".repeat(h.stars)}, ${h.stars} stars)`), rooms));
    }
    box.append(list);
    say(`${plural(page.items.length, "hotel", "hotels")} found.`);
    heading.focus();
  } catch (err) { fail(err); }
}

// ------------------------------------------------------------------- trip

function addToTrip(item, label) {
  const same = (t) => JSON.stringify(t.item) === JSON.stringify(item);
  if (!state.trip.some(same)) state.trip.push({ item, label });
  showTrip();
  say(`Added to your trip: ${label}.`);
}

function showTrip() {
  const list = $("trip-items");
  list.replaceChildren(...state.trip.map((t, i) => el("li", {}, el("span", {}, t.label),
    el("button", { type: "button", class: "secondary", "aria-label": `Remove ${t.label}`,
      onclick: () => { state.trip.splice(i, 1); showTrip(); $("trip-title").focus(); } }, "Remove"))));
  $("trip-empty").hidden = state.trip.length > 0;
  $("hold-trip").hidden = state.trip.length === 0;
}

async function holdTrip() {
  if (needSignIn()) return;
  const body = { items: state.trip.map((t) => t.item) };
  const button = $("hold-trip");
  button.disabled = true;
  say("Holding…");
  try {
    const hold = await api("POST", "/v1/holds", { body, auth: true, key: keyFor("holdKey", body) });
    state.trip = [];
    showTrip();
    await showHold(hold);
    say(`Held until ${new Date(Date.parse(hold.expires_at) - state.clockOffset).toLocaleTimeString()}. Pay before the time runs out.`);
    $("hold-title").focus();
  } catch (err) { fail(err); } finally { button.disabled = false; }
}

// ------------------------------------------------------------------- hold

async function showHold(hold) {
  state.hold = hold;
  const labels = await Promise.all(hold.items.map(async (i) => `${await describe(i)}: ${money(i.unit_price)} each`));
  $("hold-items").replaceChildren(...labels.map((l) => el("li", {}, l)));
  $("hold-total").textContent = money(hold.total);
  $("pay").textContent = `Pay ${money(hold.total)}`;
  $("hold").hidden = false;
  $("pay-form").hidden = false;
  $("hold-clock").hidden = false;
  $("pay").disabled = false;
  $("release").disabled = false;
  $("hold-expires").setAttribute("datetime", hold.expires_at);
  $("hold-expires").textContent = new Date(Date.parse(hold.expires_at) - state.clockOffset).toLocaleTimeString();
  startCountdown();
}

function startCountdown() {
  clearInterval(state.timer);
  const tick = () => {
    const left = Math.max(0, Math.floor((Date.parse(state.hold.expires_at) - (Date.now() + state.clockOffset)) / 1000));
    const text = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")} left`;
    $("countdown").textContent = text;
    $("hold-clock").classList.toggle("urgent", left < 60);
    if (left === 0) holdExpired();
  };
  tick();
  state.timer = setInterval(tick, 1000);
}

function holdExpired() {
  clearInterval(state.timer);
  $("countdown").textContent = "expired";
  $("pay").disabled = true;
  $("release").disabled = true;
  complain("Your hold has expired, so its seats and rooms went back on sale. Search again to hold them anew.");
}

function endHold() {
  clearInterval(state.timer);
  $("hold").hidden = true;
  state.hold = null;
}

async function releaseHold() {
  if (!state.hold || needSignIn()) return;
  try {
    await api("DELETE", `/v1/holds/${state.hold.id}`, { auth: true });
    endHold();
    say("Hold released: the seats and rooms are back on sale.");
    $("trip-title").focus();
  } catch (err) { fail(err); }
}

// ------------------------------------------------------------- paying

async function pay(event) {
  event.preventDefault();
  if (!state.hold || needSignIn()) return;
  const v = formValues(event.target);
  if (!v) return;
  const body = { hold_id: state.hold.id, payment: { card_number: v.card.replace(/\s+/g, "") },
    contact: { email: v.email.trim(), name: v.name.trim() } };
  $("pay").disabled = true;
  say("Paying…");
  try {
    const booking = await api("POST", "/v1/bookings", { body, auth: true, key: keyFor("payKey", body) });
    clearInterval(state.timer);
    $("pay-form").hidden = true;
    $("hold-clock").hidden = true;
    showBooking(booking);
    $("booking-title").focus();
    watch(booking.booking_id, ["pending"], showBooking);
  } catch (err) {
    $("pay").disabled = false;
    fail(err);
    if (err.problem && err.problem.code === "hold_not_active") holdExpired();
  }
}

const OUTCOME = {
  pending: "Payment in progress…",
  confirmed: "Booking confirmed. A confirmation e-mail is on its way.",
  cancelling: "Cancelling and refunding…",
  cancelled: "Booking cancelled and refunded; the seats and rooms are back on sale.",
};
const FAILURE = {
  payment_declined: "Your card was declined. Nothing was charged, and the seats and rooms were released.",
  hold_expired: "The hold expired before the payment went through. Any charge was refunded, and the seats and rooms went back on sale.",
};

function showBooking(b) {
  $("booking").hidden = false;
  const badge = $("booking-status");
  badge.textContent = b.status;
  badge.className = `badge ${b.status}`;
  const note = b.status === "failed" ? FAILURE[b.failure_reason] || `The booking failed (${b.failure_reason}).` : OUTCOME[b.status];
  $("booking-note").textContent = note;
  $("booking-id").textContent = b.booking_id;
  if (b.status === "failed") complain(note);
  else if (b.status !== "pending") say(note);
  if (b.status !== "pending") {
    endHold();
    refreshBookings();
  }
}

// Poll until the booking leaves the *passing* statuses; bounded, as the saga is.
async function watch(bookingId, passing, show) {
  const until = Date.now() + POLL_LIMIT_MS;
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, POLL_MS));
    try {
      const b = await api("GET", `/v1/bookings/${bookingId}`, { auth: true });
      if (!passing.includes(b.status)) return show(b);
    } catch (err) {
      if (!(err instanceof ApiError) || err.status < 500) return fail(err);
    }
  }
  say("The booking is taking longer than usual; its status will show in Your bookings.");
}

// ----------------------------------------------------------- bookings

async function refreshBookings() {
  if (!state.session) return;
  try {
    const page = await api("GET", "/v1/bookings?limit=20", { auth: true });
    await showBookings(page.items);
  } catch (err) { fail(err); }
}

async function showBookings(items) {
  const described = await Promise.all(items.map((b) => Promise.all(b.items.map(describe))));
  $("bookings-empty").hidden = items.length > 0;
  $("booking-list").replaceChildren(...items.map((b, i) => {
    const row = el("li", { "data-booking": b.booking_id },
      el("div", {},
        el("span", { class: "what" }, `${money(b.total)}, ${plural(b.items.length, "item", "items")}`),
        el("span", { class: "meta" }, `${described[i].join("; ")} · booked ${new Date(b.created_at).toLocaleString()}`)),
      el("strong", { class: `badge ${b.status}` }, b.status));
    if (b.status === "confirmed") {
      row.append(el("button", { type: "button", class: "secondary", "aria-label": `Cancel the booking of ${money(b.total)}`,
        onclick: (e) => cancel(b, e.target) }, "Cancel"));
    }
    return row;
  }));
}

async function cancel(booking, button) {
  if (needSignIn()) return;
  button.disabled = true;
  try {
    const b = await api("POST", `/v1/bookings/${booking.booking_id}/cancel`, { auth: true });
    say("Cancelling…");
    await refreshBookings();
    if (b.status === "cancelling") {
      await watch(b.booking_id, ["cancelling"], (done) => { say(OUTCOME[done.status] || `Booking ${done.status}.`); refreshBookings(); });
    } else {
      say(OUTCOME[b.status] || `Booking ${b.status}.`);
    }
    $("bookings-title").focus();
  } catch (err) {
    button.disabled = false;
    fail(err);
  }
}

// ------------------------------------------------------------------ start

async function start() {
  $("date").value = isoDay(2);
  $("check-in").value = isoDay(2);
  $("check-out").value = isoDay(4);
  $("sign-in-form").addEventListener("submit", localSignIn);
  $("hosted-sign-in").addEventListener("click", hostedSignIn);
  $("sign-out").addEventListener("click", () => signOut());
  $("flight-form").addEventListener("submit", searchFlights);
  $("hotel-form").addEventListener("submit", searchHotels);
  $("hold-trip").addEventListener("click", holdTrip);
  $("release").addEventListener("click", releaseHold);
  $("pay-form").addEventListener("submit", pay);
  $("refresh-bookings").addEventListener("click", refreshBookings);
  try {
    state.config = await api("GET", "/config.json");
  } catch {
    complain("Sign-in is not configured for this site; searching still works.");
    state.config = { sign_in: { kind: "none" } };
  }
  const hosted = state.config.sign_in.kind === "cognito";
  $("sign-in-local").hidden = hosted;
  $("sign-in-hosted").hidden = !hosted;
  state.session = loadSession();
  showSession();
  if (hosted) await finishHostedSignIn();
  if (state.session) refreshBookings();
  document.body.dataset.ready = "true";
}

start();
