// Keyboard for the photo lightbox of the inspection page: ← and → move to
// the previous and next photo, Esc closes it. The lightbox itself works
// without this file (CSS :target, links with access keys); this only maps
// the keys a reviewer expects onto those links, and makes a step within
// it (previous, next, close) replace the history entry it is on: opening
// the lightbox is one entry, so the browser's Back leaves it, not the
// photos one by one.

// step follows a lightbox link in place of the current history entry.
function step(link) {
  location.replace(link.hash);
}

document.addEventListener('click', (ev) => {
  if (ev.button !== 0 || ev.altKey || ev.ctrlKey || ev.metaKey || ev.shiftKey) return;
  const link = ev.target instanceof Element ? ev.target.closest('a.lb-prev, a.lb-next, a.lb-close') : null;
  if (link instanceof HTMLAnchorElement) {
    ev.preventDefault();
    step(link);
  }
});

// openBox is the lightbox shown now, or null.
function openBox() {
  return location.hash.startsWith('#lb-') ? document.getElementById(decodeURIComponent(location.hash.slice(1))) : null;
}

// The open lightbox holds the focus, as a dialog does: it starts on its
// 关闭 and Tab cycles within it, so a keyboard never walks on through the
// page hidden under it; closed, the focus goes back to the photo's link.
let lastBox = null;
function followFocus() {
  const box = openBox();
  if (box) {
    if (!box.contains(document.activeElement)) box.querySelector('a.lb-close')?.focus();
    lastBox = box.id;
  } else if (lastBox) {
    document.querySelector('a[href="#' + CSS.escape(lastBox) + '"]:not(.lb-prev):not(.lb-next)')?.focus();
    lastBox = null;
  }
}
window.addEventListener('hashchange', followFocus);
followFocus();

document.addEventListener('keydown', (ev) => {
  const shown = ev.key === 'Tab' ? openBox() : null;
  if (shown) {
    const stops = [...shown.querySelectorAll('a[href], input')].filter((el) => el.getClientRects().length);
    const at = stops.indexOf(document.activeElement);
    const next = stops[(at + (ev.shiftKey ? -1 : 1) + stops.length) % stops.length];
    if (next) {
      ev.preventDefault();
      next.focus();
    }
    return;
  }
  if (ev.altKey || ev.ctrlKey || ev.metaKey || ev.shiftKey) return;
  const el = ev.target;
  // Keys typed into a field are the field's; a checkbox (the zoom's, which
  // takes the focus when the photo is clicked) has no use for these.
  const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName) && !(el instanceof HTMLInputElement && el.type === 'checkbox');
  if (el instanceof HTMLElement && (el.isContentEditable || typing)) return;
  const box = openBox();
  if (!box) return;
  const link = box.querySelector({ ArrowLeft: 'a.lb-prev', ArrowRight: 'a.lb-next', Escape: 'a.lb-close' }[ev.key] || 'none');
  if (link instanceof HTMLAnchorElement) {
    ev.preventDefault();
    step(link);
  }
});
