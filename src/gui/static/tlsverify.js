// TLS Verify: runs tlsverify/checktls through the API and shows each step as it happens
// (the API streams one JSON line per step). Without this script the forms post and the page
// shows every step when the run has ended.
'use strict';
(function () {
  function line(list, cls, text) {
    const li = document.createElement('li');
    li.className = cls;
    li.textContent = text;
    list.appendChild(li);
  }
  document.querySelectorAll('form.tool-form').forEach(function (form) {
    form.addEventListener('submit', async function (event) {
      if (!window.fetch || !window.TextDecoder) return;
      event.preventDefault();
      const tool = form.dataset.tool;
      const fd = new FormData(form);
      const body = { domain: String(fd.get('domain') || '') };
      if (tool === 'tlsverify' && fd.get('host')) body.host = String(fd.get('host'));
      if (tool === 'checktls') body.assure = fd.getAll('assure').indexOf('on') >= 0;
      const live = document.getElementById('live-steps');
      document.querySelectorAll('#tlsverify-result, #checktls-result, #no-result, #tool-error').forEach(function (e) { e.remove(); });
      live.textContent = '';
      const title = document.createElement('p');
      title.className = 'verdict';
      title.textContent = 'Running ' + tool + ' ' + body.domain + '...';
      live.appendChild(title);
      const list = document.createElement('ol');
      list.className = 'steps';
      list.id = 'steps';
      live.appendChild(list);
      const button = form.querySelector('button');
      if (button) button.disabled = true;
      try {
        const res = await fetch('/api/tools/' + tool + '?stream=1', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': String(fd.get('_csrf')) },
          body: JSON.stringify(body),
          credentials: 'same-origin',
        });
        if (!res.ok || !res.body) {
          const j = await res.json().catch(function () { return {}; });
          title.className = 'verdict step-fail';
          title.textContent = tool + ' failed: ' + (j.error || res.status);
          return;
        }
        const reader = res.body.getReader();
        const decoder = new TextDecoder();
        let buffer = '';
        for (;;) {
          const chunk = await reader.read();
          if (chunk.done) break;
          buffer += decoder.decode(chunk.value, { stream: true });
          let nl;
          while ((nl = buffer.indexOf('\n')) >= 0) {
            const text = buffer.slice(0, nl);
            buffer = buffer.slice(nl + 1);
            if (text.trim() === '') continue;
            const msg = JSON.parse(text);
            if (msg.step) {
              const s = msg.step;
              line(list, 'step-' + s.status, (s.mx ? '[' + s.mx + '] ' : '') + Math.round(s.elapsedMs) + ' ms ' + s.text);
            } else if (msg.ok === false) {
              title.className = 'verdict step-fail';
              title.textContent = tool + ' failed: ' + msg.error;
            } else if (msg.result) {
              const r = msg.result;
              title.id = 'verdict';
              if (tool === 'tlsverify') {
                title.className = r.verified ? 'verdict ok' : 'verdict step-fail';
                title.textContent = r.verified ? 'TLS verification completed for ' + r.domain + '.' : 'TLS verification failed: ' + r.reason;
              } else {
                title.className = 'verdict';
                title.textContent = r.domain + ': confidence ' + r.score + ' / 100 (' + r.mx.map(function (m) { return m.host + ' ' + m.score; }).join(', ') + ')';
              }
            }
          }
        }
      } catch (err) {
        title.className = 'verdict step-fail';
        title.textContent = tool + ' failed: ' + err;
      } finally {
        if (button) button.disabled = false;
      }
    });
  });
})();
