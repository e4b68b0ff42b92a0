// Keyboard for the photo lightbox of the inspection page: ← and → move to
// the previous and next photo, Esc closes it. The lightbox itself works
// without this file (CSS :target, links with access keys); this only maps
// the keys a reviewer expects onto those links.
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
    location.hash = link.hash;
  }
});
