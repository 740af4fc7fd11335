// Stripe's Card Element for a form with [data-stripe-card] (order page, portal).
// The card goes to Stripe only: this page asks its server for a SetupIntent, lets Stripe.js
// confirm it (3-D Secure included) and sends the form with the intent's id. When the server
// answers that the bank wants a challenge (data-action-secret), Stripe.js runs it and the
// form is sent again with the PaymentIntent's id. Errors show next to the card field.
(() => {
  'use strict';
  const box = document.querySelector('[data-stripe-card]');
  if (!box || typeof window.Stripe !== 'function') return;
  const form = box.closest('form');
  const d = box.dataset;
  const stripe = window.Stripe(d.key);
  const mountPoint = box.querySelector('[data-stripe-card-element]');
  const card = mountPoint ? stripe.elements().create('card') : null;
  if (card) card.mount(mountPoint);
  const errorBox = box.querySelector('.field-error');
  const prefix = (form && form.dataset.msgPrefix) || '';
  const input = (name) => form.querySelector(`[name="${name}"]`);
  const show = (text) => {
    if (!errorBox) return;
    errorBox.textContent = '';
    if (text) {
      const hidden = errorBox.appendChild(document.createElement('span'));
      hidden.className = 'visually-hidden';
      hidden.textContent = prefix ? `${prefix} ` : '';
      errorBox.append(text);
    }
    errorBox.hidden = !text;
    if (mountPoint) {
      if (text) mountPoint.setAttribute('aria-invalid', 'true');
      else mountPoint.removeAttribute('aria-invalid');
    }
  };
  const unlock = () => form.dispatchEvent(new Event('portico:unlock'));
  let confirmed = false;
  const send = () => {
    confirmed = true;
    form.submit();
  };
  if (card) card.on('change', (event) => show(event && event.error ? event.error.message : ''));

  form.addEventListener('submit', async (event) => {
    if (event.defaultPrevented || confirmed || box.hidden || !card) return;
    event.preventDefault();
    show('');
    try {
      const body = new URLSearchParams();
      for (const name of ['form_token', 'csrf_token']) {
        const el = input(name);
        if (el) body.append(name, el.value);
      }
      const response = await fetch(d.setupUrl, { method: 'POST', body, credentials: 'same-origin' });
      const answer = await response.json().catch(() => ({}));
      if (!response.ok || !answer.client_secret) {
        show(answer.error || d.msgUnreachable);
        return unlock();
      }
      const email = input('email');
      const details = email && email.value ? { email: email.value.trim() } : {};
      const result = await stripe.confirmCardSetup(answer.client_secret, {
        payment_method: { card, billing_details: details },
      });
      if (result.error || !result.setupIntent) {
        show((result.error && result.error.message) || d.msgFailed);
        return unlock();
      }
      input('stripe_setup_intent').value = result.setupIntent.id;
      send();
    } catch (error) {
      show(d.msgUnreachable);
      unlock();
    }
  });

  // The bank asks for a challenge: Stripe.js runs it, then the form goes again.
  if (d.actionSecret) {
    (async () => {
      const options = d.actionMethod ? { payment_method: d.actionMethod } : undefined;
      const result = await stripe.confirmCardPayment(d.actionSecret, options).catch(() => ({}));
      const intent = result && result.paymentIntent;
      if (!result.error && intent && ['succeeded', 'processing', 'requires_capture'].includes(intent.status)) {
        input('stripe_payment_intent').value = intent.id;
        return send();
      }
      for (const name of ['stripe_setup_intent', 'stripe_payment_intent']) {
        const el = input(name);
        if (el) el.value = '';
      }
      show((result.error && result.error.message) || d.msgFailed);
    })();
  }
})();
