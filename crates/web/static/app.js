// Triage: progressive enhancements. Every page works without this file; it adds
//  - drag-and-drop and paste of screenshots onto file inputs marked data-dropzone,
//  - insertion of canned responses as soon as one is chosen (select[data-canned]),
//  - keyboard shortcuts on pages that list them (#shortcuts): j/k, o/Enter, x, /, c, ?.
// Served from /static/app.js under `script-src 'self'`: no inline code, no eval.
(function () {
  'use strict';

  // ---- attachments: drop and paste --------------------------------------------------

  var EXTENSIONS = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/gif': 'gif', 'image/webp': 'webp' };

  function sizeText(bytes) {
    if (bytes < 1024) return bytes + ' B';
    if (bytes < 1024 * 1024) return Math.ceil(bytes / 1024) + ' KB';
    return (bytes / (1024 * 1024)).toFixed(1) + ' MB';
  }

  function pad(n) { return (n < 10 ? '0' : '') + n; }

  // Pasted screenshots all arrive as "image.png": give each its own name.
  function pastedName(file, index) {
    var d = new Date();
    var stamp = d.getFullYear() + pad(d.getMonth() + 1) + pad(d.getDate()) + '-' +
      pad(d.getHours()) + pad(d.getMinutes()) + pad(d.getSeconds());
    var ext = EXTENSIONS[file.type] || 'png';
    return 'screenshot-' + stamp + (index ? '-' + index : '') + '.' + ext;
  }

  function enhanceFileInput(input) {
    if (typeof DataTransfer === 'undefined') return;
    var zone = document.createElement('div');
    zone.className = 'dropzone';
    var label = document.createElement('p');
    label.className = 'dropzone-label';
    label.textContent = input.getAttribute('data-drop-label') || '';
    var chosenTitle = document.createElement('p');
    chosenTitle.className = 'hint';
    chosenTitle.hidden = true;
    chosenTitle.textContent = input.getAttribute('data-chosen-label') || '';
    var list = document.createElement('ul');
    list.className = 'chosen';
    var live = document.createElement('div');
    live.setAttribute('aria-live', 'polite');
    live.appendChild(chosenTitle);
    live.appendChild(list);
    input.parentNode.insertBefore(zone, input);
    zone.appendChild(label);
    zone.appendChild(input);
    zone.appendChild(live);

    function show() {
      while (list.firstChild) list.removeChild(list.firstChild);
      for (var i = 0; i < input.files.length; i++) {
        var li = document.createElement('li');
        li.textContent = input.files[i].name + ' (' + sizeText(input.files[i].size) + ')';
        list.appendChild(li);
      }
      chosenTitle.hidden = input.files.length === 0;
    }

    function add(files) {
      var dt = new DataTransfer();
      var i;
      for (i = 0; i < input.files.length; i++) dt.items.add(input.files[i]);
      for (i = 0; i < files.length; i++) dt.items.add(files[i]);
      input.files = dt.files;
      show();
    }

    input.addEventListener('change', show);
    zone.addEventListener('dragover', function (e) {
      e.preventDefault();
      zone.classList.add('over');
    });
    zone.addEventListener('dragleave', function () { zone.classList.remove('over'); });
    zone.addEventListener('drop', function (e) {
      e.preventDefault();
      zone.classList.remove('over');
      if (e.dataTransfer && e.dataTransfer.files.length) add(e.dataTransfer.files);
    });
    // A screenshot pasted anywhere in the form is attached; pasted text is left alone.
    var form = input.form;
    if (form) {
      form.addEventListener('paste', function (e) {
        var data = e.clipboardData;
        if (!data || !data.files || !data.files.length) return;
        if (data.types && Array.prototype.indexOf.call(data.types, 'text/plain') >= 0) return;
        var images = [];
        for (var i = 0; i < data.files.length; i++) {
          var f = data.files[i];
          if (f.type.indexOf('image/') === 0) {
            images.push(new File([f], pastedName(f, images.length), { type: f.type }));
          }
        }
        if (images.length) {
          e.preventDefault();
          add(images);
        }
      });
    }
  }

  // ---- canned responses -----------------------------------------------------------

  function enhanceCanned(select) {
    var target = document.getElementById(select.getAttribute('data-canned'));
    if (!target) return;
    var button = select.form && select.form.querySelector('[data-canned-insert]');
    if (button) button.hidden = true;
    var inserted = '';
    select.addEventListener('change', function () {
      var option = select.options[select.selectedIndex];
      var body = option ? option.getAttribute('data-body') || '' : '';
      var text = target.value;
      // Choosing another response (or browsing with the arrow keys) replaces the one
      // inserted just before, as long as it was not edited since.
      if (inserted && text.slice(-inserted.length) === inserted) {
        text = text.slice(0, text.length - inserted.length);
      }
      inserted = '';
      if (body) {
        var base = text.replace(/\s+$/, '');
        inserted = base ? '\n\n' + body : body;
        text = base + inserted;
      }
      target.value = text;
    });
  }

  // ---- keyboard shortcuts -------------------------------------------------------------

  function typing(el) {
    if (!el) return false;
    var tag = el.tagName;
    return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || el.isContentEditable;
  }

  function enableShortcuts(help) {
    var rows = Array.prototype.slice.call(document.querySelectorAll('table[data-shortcuts] tr[data-row]'));
    var current = -1;
    var dialog = document.getElementById('shortcuts-dialog');
    if (dialog) {
      var copy = dialog.querySelector('[data-shortcuts-copy]');
      var list = help.querySelector('dl');
      if (copy && list) copy.appendChild(list.cloneNode(true));
    }

    function highlight(i) {
      if (!rows.length) return;
      current = Math.max(0, Math.min(rows.length - 1, i));
      rows.forEach(function (r, n) { r.classList.toggle('current', n === current); });
      var link = rows[current].querySelector('a[data-open]');
      if (link) link.focus();
    }

    document.addEventListener('keydown', function (e) {
      if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
      if (dialog && dialog.open) return;
      var row = current >= 0 ? rows[current] : null;
      switch (e.key) {
        case 'j':
          highlight(current + 1);
          break;
        case 'k':
          highlight(current < 0 ? 0 : current - 1);
          break;
        case 'o':
        case 'Enter':
          if (!row || (e.key === 'Enter' && e.target.tagName === 'A')) return;
          var link = row.querySelector('a[data-open]');
          if (link) link.click();
          break;
        case 'x':
          if (!row) return;
          var box = row.querySelector('input[type=checkbox]');
          if (box) box.checked = !box.checked;
          break;
        case '/':
          var search = document.querySelector('[data-search]');
          if (!search) return;
          search.focus();
          break;
        case 'c':
          var comment = document.getElementById('comment-body');
          if (!comment) return;
          comment.focus();
          break;
        case '?':
          if (dialog && dialog.showModal) dialog.showModal();
          else help.open = true;
          break;
        default:
          return;
      }
      e.preventDefault();
    });
  }

  function init() {
    var i;
    var inputs = document.querySelectorAll('input[type=file][data-dropzone]');
    for (i = 0; i < inputs.length; i++) enhanceFileInput(inputs[i]);
    var canned = document.querySelectorAll('select[data-canned]');
    for (i = 0; i < canned.length; i++) enhanceCanned(canned[i]);
    var help = document.getElementById('shortcuts');
    if (help) enableShortcuts(help);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
