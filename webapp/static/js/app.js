// The 巡查 app: the SDK client, the router and the sync schedule.
import { FieldsyncClient, FieldsyncError, IndexedDBStorage, MemoryStorage, cleanLine, cleanText } from '/app/sdk/fieldsync-sdk.js';
import { h, toast, banner, store, useClock, foldUser, focusOf, selectorOf, refocus, resumeFocus } from './ui.js';
import { message } from './errors.js';
import * as geo from './geo.js';
import * as login from './views/login.js';
import * as home from './views/home.js';
import * as sites from './views/sites.js';
import * as site from './views/site.js';
import * as inspection from './views/inspection.js';
import * as finding from './views/finding.js';
import * as vehicle from './views/vehicle.js';
import * as password from './views/password.js';
import { clearDrafts, openDrafts } from './drafts.js';

/** How often the app syncs while it is open and online. */
const SYNC_EVERY_MS = 60e3;
/** How often an open app asks, after a sync, whether the server has a new version of it. */
const UPDATE_EVERY_MS = 15 * 60e3;
const USER_KEY = 'fieldsync.user';

/** app is the state the views share. */
export const app = {
  /** @type {any} the FieldsyncClient of the signed-in user */
  client: null,
  /** the last SyncResult */
  lastResult: null,
  /** the running sync's progress: {phase, done, total, bytesDone, bytesTotal} */
  progress: null,
  /** storage is only in memory (no IndexedDB) */
  volatile: false,
  FieldsyncError,
  sync: (manual) => runSync(manual),
  go: (hash) => { if (location.hash === hash) render(); else location.hash = hash; },
  render: () => render(),
  refresh: () => refresh(),
  openClient: (username) => openClient(username),
  signedOut: () => signedOut(),
  oweSignOut: (name) => oweSignOut(name),
  signedIn: () => signedIn(),
  dropUnusedClient: () => dropUnusedClient(),
  sessionEnded: () => sessionEnded(),
  /** set while the inspector signs out (no "session expired" then) */
  leaving: false,
  /** Whether the browser keeps the app's storage for good (keepStorage);
   *  null until asked. */
  persisted: null,
  /** How long a tap is not taken where a draw put another control under
   *  the finger (see guardTap). A page may set window.fieldsyncTapGuardMs
   *  before the app loads: the browser tests do (0), whose taps come at
   *  machine speed, each at the screen's middle. */
  tapGuardMs: typeof window.fieldsyncTapGuardMs === 'number' ? window.fieldsyncTapGuardMs : 600,
};

/** The routes: a hash's view and the tab it is under. A tab '~name' is
 *  the tab of the page it was opened from (an inspection opened from the
 *  home screen is under 首页, from a site under 点位; field app probe: 点位
 *  lit inside every inspection), name when opened first. */
const routes = [
  [/^#?\/?$/, home, 'home'],
  [/^#\/login$/, login, null],
  [/^#\/sites$/, sites, 'sites'],
  [/^#\/sites\/new$/, sites.addView, 'sites'],
  [/^#\/site\/([\w-]+)$/, site, 'sites'],
  [/^#\/inspection\/([\w-]+)$/, inspection, '~sites'],
  [/^#\/finding\/([\w-]+)$/, finding, '~home'],
  [/^#\/vehicle$/, vehicle, 'vehicle'],
  [/^#\/password$/, password, 'home'],
];

/** The draw under way (render's promise), whether another was asked for
 *  while it ran, and since when the page shown has been behind a request
 *  (performance.now(); 0 when it is not: see render). */
let drawing = null;
let again = false;
let behindSince = 0;
/** How long the page may stay behind while draws keep being overtaken. */
const MAX_BEHIND_MS = 1000;
/** The tab the last page drawn was under (routes' '~'). */
let lastTab = '';
let stale = false;
/** A finger (or the mouse) is down (see refresh). */
let pressing = false;
/** The control last pressed, which a draw keeps where it was on the
 *  screen (see draw). */
let pressed = null;
/** Where a draw put another control under the finger that had just
 *  pressed one, and until when a tap there is not taken: {rect, until}
 *  (see guardTap). */
let ghost = null;
/** The controls a tap acts on. */
const CONTROLS = 'button, a, input, textarea, select, [role="button"]';

/** render draws the view the location's hash names; its promise ends
 *  once the page shows a draw begun after the call. One draw runs at a
 *  time: a call while one runs asks for another after it, and the one
 *  running, now overtaken, is not shown — it may undo on the screen what
 *  the request that overtook it did (a choice ticked), and a burst of
 *  saves shows its end, not each step — unless the page has been behind
 *  for MAX_BEHIND_MS and it is of the same page. Each tap asks for a
 *  draw, and a page drawn more slowly than taps came (知道了 tapped again
 *  and again) never changed until they stopped, every draw overtaken. */
function render() {
  if (!behindSince) behindSince = performance.now();
  if (drawing) {
    again = true;
    return drawing;
  }
  drawing = (async () => {
    try {
      do {
        again = false;
        await draw();
      } while (again);
    } finally {
      drawing = null;
    }
  })();
  return drawing;
}

/** target is the hash of the page to draw: the location's, but the
 *  sign-in form when no one is signed in. */
function target() {
  const hash = location.hash;
  if (!app.client?.signedIn && !sessionEnded() && hash !== '#/login') return '#/login';
  // Signed in (Back after a sign-in, say): no sign-in form, whose failure
  // would leave the signed-in user's data.
  if (app.client?.signedIn && hash === '#/login') return '#/';
  return hash;
}

/** draw draws the page once (render). */
async function draw() {
  stale = false;
  const hash = target();
  sessionBar();
  let view = home, tab = 'home', params = [];
  for (const [re, v, t] of routes) {
    const m = re.exec(hash);
    if (m) { view = v; tab = t; params = m.slice(1); break; }
  }
  if (tab?.startsWith('~')) tab = lastTab || tab.slice(1);
  if (tab) lastTab = tab;
  const tabs = document.getElementById('tabs');
  tabs.hidden = !tab;
  for (const a of tabs.querySelectorAll('a')) {
    a.classList.toggle('on', a.dataset.tab === tab);
    if (a.dataset.tab === tab) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  let el;
  try {
    el = await view.render(app, ...params);
  } catch (err) {
    console.error(err);
    el = h('div', { class: 'card' }, h('p', { class: 'err' }, message(err)), h('a', { class: 'btn block', href: '#/' }, '回到首页'));
  }
  if (again && !(hash === target() && performance.now() - behindSince >= MAX_BEHIND_MS)) return; // overtaken (see render)
  const main = document.getElementById('view');
  const y = window.scrollY;
  const same = main.dataset.hash === hash;
  // The inspector began typing in this page while it was being drawn
  // again (a tap saved an answer, then they went to its note): keep the
  // page they type in, and draw when they leave the field.
  // Nor under a finger: a draw begun before the finger came down (a sync
  // ending) would take the button it presses; drawn when it is lifted.
  if (same && (typingIn(main) || pressing)) {
    stale = true;
    return;
  }
  // The control focused, to focus again once drawn: a keyboard or screen
  // reader user who answered an item was thrown to the top of the page
  // by each save (a11y probe).
  const focused = same ? focusOf(main) : null;
  // The focus was in the page (on a control, or its heading read out).
  const had = same && main.contains(document.activeElement);
  // The control pressed or focused stays where it was on the screen: a
  // draw that took a line from above it (还缺 N 项 one item shorter)
  // moved the page under the finger, and the next quick tap hit the
  // note below the button meant (verification probe).
  // One on the screen only: another, pressed long ago, is left to the
  // browser's own scroll anchoring.
  const anchorEl = same ? (main.contains(pressed) ? pressed : main.contains(document.activeElement) ? document.activeElement : null) : null;
  const anchorTop = anchorEl instanceof HTMLElement ? anchorEl.getBoundingClientRect().top : NaN;
  const anchor = anchorTop >= 0 && anchorTop < window.innerHeight ? { sel: selectorOf(main, anchorEl), top: anchorTop } : null;
  const first = !main.dataset.hash;
  // The control just pressed, on the page drawn over (see guardTap).
  const press = main.contains(pressed) ? { rect: pressed.getBoundingClientRect(), key: controlKey(main, pressed) } : null;
  pressed = null;
  main.replaceChildren(el);
  // Shown overtaken, the page is still behind: for another while.
  behindSince = again ? performance.now() : 0;
  main.dataset.hash = hash;
  for (const t of main.querySelectorAll('textarea')) fitText(t);
  if (same) window.scrollTo(0, y);
  else window.scrollTo(0, 0);
  const moved = anchor?.sel ? main.querySelector(anchor.sel) : null;
  if (moved) {
    const dy = moved.getBoundingClientRect().top - anchor.top;
    if (Math.abs(dy) >= 1) window.scrollBy(0, dy);
  }
  guardTap(main, press);
  // Each screen says what it is, in the title and, when the inspector
  // went to it, by its heading taking the focus (read out).
  const heading = main.querySelector('h1');
  document.title = heading?.textContent?.trim() ? `${heading.textContent.trim()} · 巡查` : '巡查';
  // A control gone from the page drawn again (提交检查, the inspection
  // submitted), or the heading itself drawn anew, leaves the focus to the
  // heading, not to the page's body, where a keyboard or screen reader
  // user was lost (a11y probe).
  const back = !!focused && refocus(main, focused);
  if (!back && (had || (!same && !first)) && heading instanceof HTMLElement && !main.contains(document.activeElement)) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }
  resumeFocus(main);
}


/** controlKey names control a within root as a draw finds it again:
 *  by its selector (selectorOf), else by its kind and text. */
function controlKey(root, a) {
  return selectorOf(root, a) || a.tagName + '|' + (a.textContent || '').trim();
}

/** guardTap keeps a second tap from acting on what a draw put under the
 *  finger. 知道了 tapped twice dismissed the next refused change too, slid
 *  up into its place, or opened the inspection of 最近提交 that took the
 *  card's; a link tapped twice acted on the page it opened. press is the
 *  control pressed before the draw, on the page drawn over: where another
 *  control is now (one a draw finds again is itself), a tap is not taken
 *  there for app.tapGuardMs, nor until a tap elsewhere. A click from the
 *  keyboard is taken: it acts on the focused control, which the user
 *  sees. */
function guardTap(main, press) {
  if (!press || press.rect.width <= 0 || press.rect.height <= 0) return;
  const r = press.rect;
  const under = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2)?.closest(CONTROLS);
  if (!under || !main.contains(under) || controlKey(main, under) === press.key) return;
  ghost = { rect: r, until: performance.now() + app.tapGuardMs };
}
/** ghostAt says whether pointer event e falls where guardTap keeps taps
 *  from acting now. */
function ghostAt(e) {
  if (!ghost || performance.now() >= ghost.until) return false;
  const r = ghost.rect;
  return e.clientX >= r.left && e.clientX <= r.right && e.clientY >= r.top && e.clientY <= r.bottom;
}
document.addEventListener('click', (e) => {
  if (e.detail !== 0 && ghostAt(e)) { // not from the keyboard
    e.preventDefault();
    e.stopImmediatePropagation();
  }
}, true);

/** fitText grows text area t to show all its text (up to 60% of the
 *  screen, then it scrolls), and back to its rows as text is deleted: a
 *  note of several lines (a returned inspection's, one typed at length)
 *  is read whole, not through a two-line slot. */
// A folded part opened (更多检测项): its text areas are measured now.
document.addEventListener('toggle', (e) => {
  if (e.target instanceof HTMLElement) for (const t of e.target.querySelectorAll('textarea')) fitText(t);
}, true);
function fitText(t) {
  if (!(t instanceof HTMLTextAreaElement) || !t.offsetParent) return;
  t.style.height = '';
  if (t.scrollHeight <= t.clientHeight) return;
  const border = t.offsetHeight - t.clientHeight;
  t.style.height = Math.min(t.scrollHeight + border, Math.round(window.innerHeight * 0.6)) + 'px';
}

/** refresh re-renders after data changed, unless the inspector is typing
 *  (then when they leave the field): it says whether it drew now. A
 *  form's unsaved input survives the draw in its draft (drafts.js). */
function refresh() {
  if (typingIn(document) || pressing) {
    stale = true;
    return false;
  }
  render();
  return true;
}

// A finger (or the mouse) is down: the page is not drawn again until it
// is lifted and the tap has been handled. Leaving a field saves it, and
// that save ends while the finger is still on the button it moved to — a
// page drawn again then would take the button from under the finger, and
// the tap (提交检查 right after typing the last value) would be lost.
document.addEventListener('pointerdown', (e) => {
  if (ghostAt(e)) return; // not taken (guardTap)
  ghost = null; // a tap elsewhere: the user has moved on
  pressing = true;
  pressed = e.target instanceof Element ? e.target.closest(CONTROLS) : null;
}, true);
const lifted = () => {
  if (!pressing) return;
  pressing = false;
  if (stale) setTimeout(() => { if (stale) refresh(); }, 0); // after the click
};
document.addEventListener('pointerup', lifted, true);
document.addEventListener('pointercancel', lifted, true);

// Text pasted from a chat or a web page may carry characters no one sees
// (a direction override, a zero-width space, a control character) that
// the server refuses, and the whole record with them: they are taken out
// as they arrive, the caret kept where it was, before the views read or
// keep the value — a text area's by the rule of notes (line breaks and
// tabs stay), a one-line field's by the rule of names and numbers. A
// note loses the spacers no one sees too (a zero-width space, a word
// joiner, a byte-order mark, a Hangul filler): the server takes them, but
// a phone number or a plate with one inside is found by no search. The
// zero-width joiner of an emoji sequence stays.
const SPACERS = /[\u200b\u2060\ufeff\u180e\u3164\uffa0]/g;
const cleanNote = (/** @type {string} */ s) => cleanText(s).replace(SPACERS, '');
document.addEventListener('input', (e) => {
  const el = e.target;
  const clean = el instanceof HTMLTextAreaElement ? cleanNote
    : el instanceof HTMLInputElement && (el.type === 'text' || el.type === 'search') ? cleanLine : null;
  fitText(el);
  if (!clean || clean(el.value) === el.value) return;
  const at = clean(el.value.slice(0, el.selectionStart ?? el.value.length)).length;
  el.value = clean(el.value);
  el.setSelectionRange(at, at);
  fitText(el);
}, true);

/** typingIn says whether a field within root has the focus (the
 *  inspector is typing or choosing in it). */
function typingIn(root) {
  const a = document.activeElement;
  return !!a && root.contains(a) && (a.tagName === 'INPUT' || a.tagName === 'TEXTAREA' || a.tagName === 'SELECT') && a.type !== 'file';
}
document.addEventListener('focusout', () => { if (stale) setTimeout(() => { if (stale) refresh(); }, 0); });

/** openStorage opens the user's IndexedDB store, or memory without it. */
async function openStorage(username) {
  const name = 'fieldsync-' + username;
  try {
    if (!('indexedDB' in window) || !IndexedDBStorage) throw new Error('no IndexedDB');
    const s = typeof IndexedDBStorage.open === 'function' ? await IndexedDBStorage.open(name) : new IndexedDBStorage(name);
    app.volatile = false;
    return s;
  } catch (err) {
    console.warn('IndexedDB unavailable, keeping data in memory', err);
    app.volatile = true;
    banner(message({ code: 'storage_unavailable' }));
    return new MemoryStorage();
  }
}

let unsubscribe = [];

/** storageUser is the name whose storage holds username's data: the
 *  phone's user as first stored when username is the same user typed
 *  another way (Inspector, ｉｎｓｐｅｃｔｏｒ), else the folded name — one
 *  storage a user, however the name is typed. */
function storageUser(username) {
  const kept = store.get(USER_KEY);
  return kept && foldUser(kept) === foldUser(username) ? kept : foldUser(username);
}

/** openClient opens (or reuses) the client for username. */
async function openClient(typed) {
  const username = storageUser(typed);
  // The forms' unsaved input kept on the phone is this user's, or dropped.
  openDrafts(username);
  if (app.client && app.clientUser === username) return app.client;
  await closeClient();
  const storage = await openStorage(username);
  const client = await FieldsyncClient.open({ baseURL: '', storage, deviceName: deviceName() });
  app.client = client;
  app.clientUser = username;
  // Record times by the phone's clock corrected to the server's (sync.md §7).
  useClock(typeof client.now === 'function' ? () => client.now() : null);
  unsubscribe.push(client.on('sync', () => syncChanged()));
  keepStorage();
  unsubscribe.push(client.on('auth', (e) => {
    // A sign-out the inspector asked for is not an expired session.
    if (!e.signedIn && !app.leaving) {
      // Signed out in another tab of the app (it forgot the user): said
      // so, not as a session that ended by itself.
      if (!store.get(USER_KEY)) { signedOutElsewhere(); return; }
      toast(message({ code: 'session_ended' }), true, 'auth');
      render();
    } else if (e.signedIn && store.get(USER_KEY) === app.clientUser) {
      // Another tab signed in again: this one's bar goes.
      render();
    }
  }));
  return client;
}

/** keepStorage asks the browser to keep the app's storage (outbox,
 *  photos, drafts) when the phone runs short of space: without it the
 *  storage is best-effort and may be cleared whole. app.persisted says
 *  the answer (home warns while work waits unpersisted). */
async function keepStorage() {
  const st = typeof navigator !== 'undefined' ? navigator.storage : null;
  if (!st?.persisted) return;
  try {
    app.persisted = (await st.persisted()) || (st.persist ? await st.persist() : false);
  } catch {
    app.persisted = false;
  }
  syncChanged();
}

/** sessionCodes are the errors of a session that has ended. */
const sessionCodes = new Set(['token_invalid', 'unauthorized', 'session_lost', 'session_ended', 'signed_out']);

/** closeClient closes the open client, if any. */
async function closeClient() {
  for (const u of unsubscribe) u();
  unsubscribe = [];
  const c = app.client;
  app.client = null;
  app.clientUser = null;
  if (c) await c.close?.();
}

/** dropUnusedClient closes the client opened for a sign-in that failed,
 *  and deletes its storage, if no one ever signed in on it: a mistyped
 *  name leaves no database behind. */
async function dropUnusedClient() {
  const c = app.client;
  if (!c || c.user) return;
  const name = app.clientUser;
  await closeClient();
  if (!app.volatile && name) {
    try { indexedDB.deleteDatabase('fieldsync-' + name); } catch (err) { console.warn('delete unused storage', err); }
  }
}

function deviceName() {
  const ua = navigator.userAgent;
  const wechat = /MicroMessenger/i.test(ua) ? '微信' : '';
  const m = /Android [\d.]+; ([^;)]+)/.exec(ua);
  return ('巡查 App ' + wechat + (m ? ' · ' + m[1].replace(/ Build.*/, '') : '')).trim();
}

/** signedIn records that the open client's user signed in on this
 *  phone: the app opens with their data from now on, and keeps it open if
 *  the server ends the session (sessionEnded). */
function signedIn() {
  store.set(USER_KEY, app.clientUser);
  sessionBar();
}

/** sessionEnded says whether the server ended the session of the user this
 *  phone is signed in for — a sign-out on another device of the office's
 *  doing, a token refresh whose answer was lost, a refresh token expired
 *  after 30 days — without the inspector signing out. Their work stays on
 *  the phone and the app stays open: they go on working offline, and sign
 *  in again only to sync (sync.md §2 keeps the outbox and the cursor valid
 *  across a new sign-in of the same user). */
function sessionEnded() {
  const c = app.client;
  return !!c && !c.signedIn && !!c.user && !!app.clientUser && store.get(USER_KEY) === app.clientUser;
}

/** sessionBar shows, while the session is ended, that the work is kept
 *  and how to sync it. */
function sessionBar() {
  const bar = document.getElementById('session');
  if (!bar) return;
  const ended = sessionEnded() && !location.hash.startsWith('#/login');
  bar.hidden = !ended;
  if (!ended) { bar.replaceChildren(); return; }
  bar.replaceChildren(h('span', {}, '登录已失效，不能同步。数据都保存在手机上，可以继续离线工作；有信号时请'),
    h('a', { href: '#/login', id: 'sign-in-again' }, '重新登录'), h('span', {}, '，之后自动上传。'));
}

/** signedOutElsewhere leaves this tab as another tab's sign-out left the
 *  phone: on the sign-in screen, saying why. */
function signedOutElsewhere() {
  if (!app.clientUser || app.leaving) return;
  const c = app.client;
  for (const u of unsubscribe) u();
  unsubscribe = [];
  signedOut();
  c?.close?.().catch(() => {});
  toast('已在本应用的另一个窗口退出登录。', false, 'auth');
}

// Another tab's sign-out forgets the user at once (localStorage is
// shared): this tab follows, rather than finding out at its next request.
if (typeof window !== 'undefined') {
  window.addEventListener('storage', (e) => {
    if (e.key === USER_KEY && e.newValue === null) signedOutElsewhere();
  });
}

/** storedUser finds, when the phone's user is not remembered (the
 *  browser cleared the app's localStorage but not its IndexedDB), the one
 *  storage whose user is signed in, or has work not sent yet: the app
 *  opens on it, as before, instead of asking for a first sign-in (which
 *  needs a network) with the inspector's work still on the phone. Null
 *  when there is none, or more than one. */
async function storedUser() {
  if (typeof indexedDB === 'undefined' || typeof indexedDB.databases !== 'function' || !IndexedDBStorage?.open) return null;
  let names;
  try {
    names = (await indexedDB.databases()).map((d) => d.name).filter((n) => n?.startsWith('fieldsync-'));
  } catch {
    return null;
  }
  const found = [];
  for (const db of names) {
    let c = null;
    try {
      c = await FieldsyncClient.open({ baseURL: '', storage: await IndexedDBStorage.open(db), deviceName: deviceName() });
      const s = await c.refreshStatus();
      if (c.signedIn || (c.user && (s.pendingChanges > 0 || s.pendingPhotos > 0 || s.rejectedChanges > 0))) found.push(db.slice('fieldsync-'.length));
    } catch (err) {
      console.warn('look into a storage', db, err);
    } finally {
      await c?.close?.().catch(() => {});
    }
  }
  if (found.length !== 1) return null;
  store.set(USER_KEY, found[0]);
  return found[0];
}

/** OWED_KEY lists the users signed out offline on this phone whose
 *  sessions the server has not ended yet: their storages hold the tokens
 *  to end them with (the SDK's settleSessions). */
const OWED_KEY = 'fieldsync.owed';

/** oweSignOut notes that name signed out offline. */
function oweSignOut(name) {
  if (!name) return;
  const owed = store.get(OWED_KEY)?.split('\n').filter(Boolean) ?? [];
  if (!owed.includes(name)) store.set(OWED_KEY, [...owed, name].join('\n'));
}

/** settleOwed ends on the server the sessions of the users who signed
 *  out offline, whoever uses the phone now: it runs once the phone is
 *  online (a sign-in, a sync). A sign-out must not leave the previous
 *  inspector's tokens working on a phone handed to a colleague until that
 *  inspector signs in here again. The open user's own are the client's. */
let settling = null;
function settleOwed() {
  settling ??= (async () => {
    const owed = store.get(OWED_KEY)?.split('\n').filter(Boolean) ?? [];
    const left = [];
    for (const name of owed) {
      if (name === app.clientUser) {
        if (await app.client?.sessionsOwed?.().catch(() => 1)) left.push(name);
        continue;
      }
      let c = null;
      try {
        c = await FieldsyncClient.open({ baseURL: '', storage: await IndexedDBStorage.open('fieldsync-' + name), deviceName: deviceName() });
        await c.settleSessions();
        if (await c.sessionsOwed()) left.push(name);
      } catch (err) {
        console.warn('end the session signed out offline', name, err);
        left.push(name);
      } finally {
        await c?.close?.().catch(() => {});
      }
    }
    const now = store.get(OWED_KEY)?.split('\n').filter(Boolean) ?? [];
    const still = [...left, ...now.filter((n) => !owed.includes(n))];
    if (still.length) store.set(OWED_KEY, still.join('\n'));
    else store.del(OWED_KEY);
  })().finally(() => { settling = null; });
  return settling;
}

async function signedOut() {
  store.del(USER_KEY);
  // The next user of the phone must not find this one's unsaved input.
  clearDrafts();
  inspection.forgetNotes();
  vehicle.forgetCheckpoint();
  vehicle.forgetShots();
  useClock(null);
  app.client = null;
  app.clientUser = null;
  app.lastResult = null;
  netChanged();
  location.hash = '#/login';
  render();
}

// ---- sync ----

let syncing = null;
/** The sync asked for while one ran, to run when it ends. */
let nextSync = null;
/** The running sync was asked for by hand (立即同步), at its start or since. */
let byHand = false;

/** runSync syncs now (manual: the inspector asked, so say what happened). */
async function runSync(manual = false) {
  const c = app.client;
  // An ended session another tab has signed in again since is taken up.
  if (!c?.signedIn && !(c && sessionEnded() && await c.resumeSession?.())) {
    // Asked to sync with the session ended: signing in again comes first.
    if (manual && sessionEnded()) app.go('#/login');
    return null;
  }
  if (!manual && navigator.onLine === false) return null;
  if (manual) byHand = true;
  if (syncing) {
    // Asked for while a sync runs, which may have pushed already: after a
    // change made meanwhile (a refused change reapplied, a submission), it
    // waited for the minute's sync. One more runs when this one ends, for
    // every ask meanwhile, and answers a tap (its toast, the look for a
    // new version of the app).
    nextSync ??= syncing.then(() => { nextSync = null; return runSync(false); });
    return nextSync;
  }
  syncing = (async () => {
    app.progress = { phase: 'push', done: 0, total: 0, bytesDone: 0, bytesTotal: 0 };
    syncChanged();
    let res;
    try {
      res = await c.sync({ onProgress: (p) => { app.progress = p; progressChanged(); } });
    } catch (err) {
      res = { ok: false, rejected: [], superseded: [], error: err };
    }
    app.progress = null;
    app.lastResult = res;
    // A tap is answered by the sync that runs after it: the next, if one
    // was asked for meanwhile.
    manual = byHand && !nextSync;
    if (manual) byHand = false;
    if (res.rejected?.length) {
      // Automatic syncs too: the refused changes wait on the home screen
      // until the inspector dismisses them.
      toast(`有 ${res.rejected.length} 处修改被服务器拒绝，详见首页`, true, 'rejected');
    } else if (manual && !(res.error && sessionEnded())) {
      // (An ended session is said once, by its own toast and bar.)
      // One toast of a session that ended, whichever says it first (the
      // sign-out's own, or this sync's refusal): not both, one under the other.
      toast(res.error ? message(res.error) : '同步完成', !!res.error, sessionCodes.has(res.error?.code) ? 'auth' : 'sync');
    }
    if (manual && res.error && res.rejected?.length) toast(message(res.error), true, 'sync');
    if (res.error?.code === 'device_revoked' || res.error?.code === 'user_disabled') banner(message(res.error));
    if (!res.error) {
      checkForUpdate(manual);
      // Online: end the sessions of users who signed out offline here.
      if (store.get(OWED_KEY)) settleOwed().catch((err) => console.warn('settle sessions', err));
    }
    refresh();
    return res;
  })();
  try { return await syncing; } finally { syncing = null; }
}

let lastUpdateCheck = Date.now(); // the page's load checked

/**
 * checkForUpdate asks the browser to fetch the service worker again, which
 * installs a new version of the app the server has (and the banner offers
 * 刷新). The browser does so by itself only when a page is loaded or a day
 * after its last check, and an inspector keeps the app open for days:
 * asked when the app comes back to the screen or syncs by hand, and after
 * an automatic sync once in UPDATE_EVERY_MS.
 */
function checkForUpdate(now) {
  if (!navigator.serviceWorker || navigator.onLine === false) return;
  if (!now && Date.now() - lastUpdateCheck < UPDATE_EVERY_MS) return;
  lastUpdateCheck = Date.now();
  navigator.serviceWorker.getRegistration(location.pathname.replace(/[^/]*$/, ''))
    .then((reg) => reg?.update()).catch((err) => console.warn('app update check failed', err));
}

function syncChanged() {
  netChanged();
  progressChanged();
  home.updateStatus?.(app);
}

function progressChanged() {
  for (const bar of document.querySelectorAll('.progress > i')) {
    const p = app.progress;
    let pct = 0;
    if (p) pct = p.bytesTotal ? (100 * p.bytesDone) / p.bytesTotal : p.total ? (100 * p.done) / p.total : 5;
    bar.style.width = Math.min(100, pct).toFixed(1) + '%';
    bar.parentElement?.classList.toggle('idle', !p);
  }
  for (const el of document.querySelectorAll('[data-progress-text]')) {
    const p = app.progress;
    el.textContent = !p ? '' : p.phase === 'upload'
      ? `正在上传照片 ${p.done}/${p.total}` : p.phase === 'pull' ? '正在下载…' : '正在上传修改…';
  }
}

/**
 * netChanged says in the title bar whether the server can be reached: 离线
 * when the phone has no network, 连不上服务器 when it has one but the last
 * sync got no answer (a network with no way out, a server down; the
 * browser calls both online), else 在线.
 */
function netChanged() {
  const el = document.getElementById('net');
  const offline = navigator.onLine === false;
  const unreachable = !offline && app.client?.status().lastSync?.error?.code === 'network';
  // Written only when it changes: a live region, it was read out again
  // at every step of a sync (a11y probe).
  const text = offline ? '离线' : unreachable ? '连不上服务器' : '在线';
  if (el.textContent !== text) el.textContent = text;
  el.classList.toggle('off', offline || unreachable);
}

/** start runs the app. */
export async function start() {
  netChanged();
  // The tab bar's height, for what sits above it (app.css --tabs-h):
  // taller at a large text size, where a fixed 60 px left 提交检查
  // under it (a11y probe).
  const tabs = document.getElementById('tabs');
  if (tabs) {
    const measure = () => document.documentElement.style.setProperty('--tabs-h', `${tabs.offsetHeight}px`);
    if ('ResizeObserver' in window) new ResizeObserver(measure).observe(tabs);
    measure();
  }
  window.addEventListener('online', () => { netChanged(); runSync(false); });
  window.addEventListener('offline', netChanged);
  window.addEventListener('hashchange', () => render());
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState !== 'visible') return;
    // Another tab may have saved, sent or submitted meanwhile: the counts
    // as stored, and the screen drawn again from the storage (a form keeps
    // what was typed), so that an inspection submitted there is not
    // edited here as a draft.
    app.client?.refreshStatus?.().then(() => { syncChanged(); render(); }, () => {});
    runSync(false);
    checkForUpdate(true);
  });
  setInterval(() => { if (document.visibilityState !== 'hidden') runSync(false); }, SYNC_EVERY_MS);
  if ('serviceWorker' in navigator && navigator.serviceWorker) {
    let had = !!navigator.serviceWorker.controller;
    navigator.serviceWorker.addEventListener('controllerchange', () => {
      if (had) banner(h('span', {}, '巡查应用已更新。', h('button', { onclick: () => location.reload() }, '刷新')));
      had = true;
    });
  } else if (!window.isSecureContext) {
    banner('当前地址不是 HTTPS，关闭页面后无法离线打开。请使用督查室提供的 https 地址。');
  }
  const user = store.get(USER_KEY) ?? await storedUser();
  if (user) {
    try { await openClient(user); } catch (err) { console.error(err); toast(message(err), true, 'error'); }
    netChanged(); // as the last sync left it
  }
  geo.watch();
  await render();
  document.body.dataset.ready = '1';
  performance.mark?.('fieldsync-ready');
  if (app.client?.signedIn) runSync(false);
}
