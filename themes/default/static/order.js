// Portico order page: conditional fields, inline checks, one submit. No dependencies,
// no requests; the messages come translated in the form's data-msg-* attributes.
(() => {
  'use strict';
  const doc = document;
  doc.documentElement.classList.add('js');
  const form = doc.querySelector('[data-order-form]');
  if (!form) return;
  const summary = doc.getElementById('error-summary');
  const msg = form.dataset;
  const button = form.querySelector('[data-submit]');
  const controls = (wrap) => wrap.querySelectorAll('input,select,textarea');
  const wrapOf = (el) => el.closest('[data-field]');
  const boxy = (el) => /radio|checkbox/.test(el.type);
  let sending = false;

  // Conditional fields: the no-JS hints give way to fields that show and hide.
  form.querySelectorAll('.condition-hint').forEach((hint) => hint.remove());
  const json = (text) => JSON.parse(text || 'null');
  const rules = [...form.querySelectorAll('[data-visible-if],[data-required-if]')].map((wrap) => (
    { wrap, visible: json(wrap.dataset.visibleIf), required: json(wrap.dataset.requiredIf) }));
  // A value as the server spells it; a hidden (disabled) field counts as empty.
  const valueOf = (name) => {
    let value = '';
    for (const el of form.querySelectorAll(`[name="${name}"]`)) {
      if (el.disabled) return '';
      if (el.type === 'checkbox') return String(el.checked);
      if (el.type !== 'radio' || el.checked) value = el.value.trim();
    }
    return value;
  };
  const holds = (rule) => !rule || rule.values.includes(valueOf(rule.field));
  const update = () => {
    for (const { wrap, visible, required } of rules) {
      const shown = holds(visible);
      const needed = shown && (wrap.hasAttribute('data-required') || (!!required && holds(required)));
      wrap.hidden = !shown;
      controls(wrap).forEach((el) => { el.disabled = !shown; el.required = needed; });
      const marker = wrap.querySelector('[data-required-marker]');
      if (marker) marker.hidden = !needed;
      if (!shown) setError(wrap, '');
    }
  };

  // Inline checks through the Constraint Validation API.
  const problem = (el) => {
    const v = el.validity;
    if (v.valueMissing || (el.required && !boxy(el) && !el.value.trim())) {
      return el.type === 'checkbox' ? msg.msgCheckbox : msg.msgRequired;
    }
    if (v.typeMismatch && el.type === 'email') return msg.msgEmail;
    if (v.tooShort) return el.dataset.msgTooShort || msg.msgInvalid;
    if (v.patternMismatch) return el.dataset.msgPattern || msg.msgInvalid;
    return v.valid ? '' : msg.msgInvalid;
  };
  // The error element is always in aria-describedby; empty, it says nothing.
  function setError(wrap, text) {
    const box = wrap && wrap.querySelector('.field-error');
    if (!box) return;
    box.textContent = '';
    if (text) {
      box.appendChild(doc.createElement('span')).className = 'visually-hidden';
      box.firstChild.textContent = `${msg.msgPrefix} `;
      box.append(text);
    }
    box.hidden = !text;
    controls(wrap).forEach((el) => (text ? el.setAttribute('aria-invalid', 'true') : el.removeAttribute('aria-invalid')));
  }
  const check = (el) => {
    const text = problem(el);
    setError(wrapOf(el), text);
    return text;
  };

  // Checked on leaving a filled field, and while fixing a marked one.
  form.addEventListener('focusout', ({ target: el }) => {
    if (el.willValidate && !boxy(el) && (el.value.trim() || el.hasAttribute('aria-invalid'))) check(el);
  });
  const changed = ({ target: el }) => {
    update();
    if (el.willValidate && el.hasAttribute('aria-invalid')) check(el);
  };
  form.addEventListener('input', changed);
  form.addEventListener('change', changed);

  form.addEventListener('submit', (event) => {
    if (sending) return event.preventDefault();
    const seen = new Set();
    const problems = [];
    for (const el of form.elements) {
      if (!el.name || !el.willValidate || seen.has(el.name) || el.closest('[aria-hidden="true"]')) continue;
      seen.add(el.name);
      const text = check(el);
      if (text) problems.push([el, text]);
    }
    if (problems.length && summary) {
      event.preventDefault();
      const list = summary.querySelector('ul');
      list.textContent = '';
      for (const [el, text] of problems) {
        const link = list.appendChild(doc.createElement('li')).appendChild(doc.createElement('a'));
        link.href = `#${el.id}`;
        link.textContent = msg.msgSummary.replace('{field}', wrapOf(el).dataset.label).replace('{message}', text);
      }
      summary.hidden = false;
      summary.setAttribute('data-error-summary', '');
      summary.focus();
      return;
    }
    sending = true;
    if (button) button.disabled = true;
  });

  // Summary links focus the field itself, with its label in view.
  if (summary) {
    summary.addEventListener('click', (event) => {
      const link = event.target.closest('a');
      const target = link && doc.getElementById(link.hash.slice(1));
      if (!target) return;
      event.preventDefault();
      const details = target.closest('details');
      if (details) details.open = true;
      (wrapOf(target) || target).scrollIntoView();
      target.focus({ preventScroll: true });
    });
  }

  // A card the payment provider refused (stripe-card.js): the form may be sent again.
  form.addEventListener('portico:unlock', () => {
    sending = false;
    if (button) button.disabled = false;
  });

  // Back from the next page (bfcache): the form may be sent again.
  window.addEventListener('pageshow', (event) => {
    if (event.persisted && button) button.disabled = sending = false;
  });

  update();
  if (summary && !summary.hidden) summary.focus();
})();
