// Gatehouse admin GUI: the little script every page loads (no inline script: the CSP forbids it).
// Forms with data-confirm ask before they are sent.
'use strict';
document.addEventListener('submit', (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) event.preventDefault();
});
