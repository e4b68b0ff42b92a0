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

document.addEventListener('keydown', (ev) => {
  if (ev.altKey || ev.ctrlKey || ev.metaKey || ev.shiftKey) return;
  const el = ev.target;
  // Keys typed into a field are the field's; a checkbox (the zoom's, which
  // takes the focus when the photo is clicked) has no use for these.
  const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName) && !(el instanceof HTMLInputElement && el.type === 'checkbox');
  if (el instanceof HTMLElement && (el.isContentEditable || typing)) return;
  if (!location.hash.startsWith('#lb-')) return;
  const box = document.getElementById(decodeURIComponent(location.hash.slice(1)));
  if (!box) return;
  const link = box.querySelector({ ArrowLeft: 'a.lb-prev', ArrowRight: 'a.lb-next', Escape: 'a.lb-close' }[ev.key] || 'none');
  if (link instanceof HTMLAnchorElement) {
    ev.preventDefault();
    step(link);
  }
});
