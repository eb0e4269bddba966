/* Northwind Threads: cart in localStorage, GA4 ecommerce events in window.dataLayer, page behaviour. */
(function () {
  'use strict';

  var CART_KEY = 'nw_cart';
  var CURRENCY = 'EUR';
  var dataLayer = (window.dataLayer = window.dataLayer || []);

  // The way GTM sites send GA4 ecommerce: clear the previous ecommerce object, then push the event.
  function track(event, ecommerce) {
    dataLayer.push({ ecommerce: null });
    dataLayer.push({ event: event, ecommerce: ecommerce });
  }

  function round2(n) { return Math.round(n * 100) / 100; }
  function money(n) { return '€' + n.toFixed(2); }

  function readCart() {
    try {
      var lines = JSON.parse(localStorage.getItem(CART_KEY) || '[]');
      return Array.isArray(lines) ? lines : [];
    } catch (e) {
      return [];
    }
  }
  function writeCart(lines) {
    localStorage.setItem(CART_KEY, JSON.stringify(lines));
    showCount();
  }
  function gaItem(line, quantity) {
    return {
      item_id: line.item_id, item_name: line.item_name, item_brand: 'Northwind Threads',
      item_category: line.item_category, item_variant: line.item_variant,
      price: line.price, quantity: quantity === undefined ? line.quantity : quantity
    };
  }
  function cartValue(lines) {
    return round2(lines.reduce(function (sum, l) { return sum + l.price * l.quantity; }, 0));
  }
  function showCount() {
    var count = readCart().reduce(function (n, l) { return n + l.quantity; }, 0);
    document.querySelectorAll('[data-test="cart-count"]').forEach(function (el) { el.textContent = String(count); });
  }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function idempotencyKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return 'k-' + Date.now().toString(36) + '-' + Math.random().toString(36).slice(2);
  }
  function api(method, path, body) {
    var init = { method: method, headers: { 'Accept': 'application/json' } };
    if (method === 'POST') {
      init.headers['Content-Type'] = 'application/json';
      init.headers['Idempotency-Key'] = idempotencyKey();
      init.body = JSON.stringify(body || {});
    }
    return fetch(path, init).then(function (r) {
      return r.json().then(function (data) {
        if (!r.ok) throw new Error(data.detail || ('HTTP ' + r.status));
        return data;
      });
    });
  }

  function productFromPage(root) {
    return {
      item_id: root.dataset.itemId, item_name: root.dataset.name, item_category: root.dataset.category,
      price: Number(root.dataset.price), image: root.dataset.image, url: location.pathname
    };
  }

  var pages = {};

  pages.products = function () {
    var items = [];
    document.querySelectorAll('[data-item-id]').forEach(function (card, i) {
      var p = productFromPage(card);
      items.push({ item_id: p.item_id, item_name: p.item_name, item_category: p.item_category, price: p.price, index: i });
    });
    track('view_item_list', { item_list_id: 'all_products', item_list_name: 'All products', items: items });
  };

  pages.product = function () {
    var root = document.querySelector('[data-product]');
    var product = productFromPage(root);
    var status = document.querySelector('[data-test="add-status"]');
    track('view_item', { currency: CURRENCY, value: product.price, items: [gaItem(Object.assign({ item_variant: undefined }, product), 1)] });
    document.querySelector('[data-test="add-to-cart"]').addEventListener('click', function () {
      var picked = root.querySelector('input[name="size"]:checked');
      if (!picked) {
        status.className = 'notice error';
        status.textContent = 'Choose a size first.';
        return;
      }
      var lines = readCart();
      var line = lines.find(function (l) { return l.item_id === product.item_id && l.item_variant === picked.value; });
      if (line) line.quantity += 1;
      else lines.push(line = Object.assign({ item_variant: picked.value, quantity: 1 }, product));
      writeCart(lines);
      track('add_to_cart', { currency: CURRENCY, value: product.price, items: [gaItem(line, 1)] });
      status.className = 'notice';
      status.textContent = product.item_name + ' (' + picked.value + ') added to your cart.';
    });
  };

  function renderCart() {
    var lines = readCart();
    var list = document.querySelector('[data-test="cart-lines"]');
    var empty = document.querySelector('[data-test="cart-empty"]');
    var checkout = document.querySelector('[data-test="checkout"]');
    list.replaceChildren();
    lines.forEach(function (line, index) {
      var row = el('div', { 'class': 'cart-line', 'data-test': 'cart-line' });
      row.appendChild(el('img', { src: line.image, alt: '', width: '72', height: '66' }));
      var text = el('div');
      var name = el('a', { href: line.url }, line.item_name);
      text.appendChild(name);
      text.appendChild(el('div', { 'class': 'muted small' }, 'Size ' + line.item_variant + ' · ' + line.quantity + ' × ' + money(line.price)));
      var remove = el('button', { type: 'button', 'class': 'link-btn', 'data-test': 'remove-line' }, 'Remove');
      remove.addEventListener('click', function () { removeLine(index); });
      text.appendChild(remove);
      row.appendChild(text);
      row.appendChild(el('div', { 'class': 'price' }, money(line.price * line.quantity)));
      list.appendChild(row);
    });
    var subtotal = cartValue(lines);
    var shipping = subtotal === 0 || subtotal >= 60 ? 0 : 4.95;
    document.querySelector('[data-test="subtotal"]').textContent = money(subtotal);
    document.querySelector('[data-test="shipping"]').textContent = shipping ? money(shipping) : 'Free';
    document.querySelector('[data-test="total"]').textContent = money(subtotal + shipping);
    empty.hidden = lines.length > 0;
    checkout.disabled = lines.length === 0;
  }

  function removeLine(index) {
    var lines = readCart();
    var line = lines.splice(index, 1)[0];
    if (!line) return;
    writeCart(lines);
    track('remove_from_cart', { currency: CURRENCY, value: round2(line.price * line.quantity), items: [gaItem(line)] });
    renderCart();
  }

  pages.cart = function () {
    renderCart();
    var lines = readCart();
    track('view_cart', { currency: CURRENCY, value: cartValue(lines), items: lines.map(function (l) { return gaItem(l); }) });
    document.querySelector('[data-test="checkout"]').addEventListener('click', function () {
      var current = readCart();
      if (!current.length) return;
      track('begin_checkout', { currency: CURRENCY, value: cartValue(current), items: current.map(function (l) { return gaItem(l); }) });
      location.href = '/confirmation';
    });
  };

  pages.confirmation = function () {
    var lines = readCart();
    var box = document.querySelector('[data-test="order-summary"]');
    if (!lines.length) {
      box.textContent = 'There is no order to confirm. Your cart is empty.';
      return;
    }
    var value = cartValue(lines);
    var shipping = value >= 60 ? 0 : 4.95;
    var id = 'NW-' + String(Date.now()).slice(-6);
    // The cart is cleared before the event, so a reload cannot count the purchase twice.
    writeCart([]);
    track('purchase', {
      transaction_id: id, currency: CURRENCY, value: value, shipping: shipping, tax: round2(value - value / 1.2),
      items: lines.map(function (l) { return gaItem(l); })
    });
    document.querySelector('[data-test="order-id"]').textContent = id;
    box.textContent = lines.length + (lines.length === 1 ? ' item, ' : ' items, ') + money(value + shipping) + ' including delivery.';
  };

  pages.pricing = function () {
    var buttons = document.querySelectorAll('[data-billing]');
    function show(billing) {
      buttons.forEach(function (b) { b.setAttribute('aria-pressed', String(b.dataset.billing === billing)); });
      document.querySelectorAll('[data-monthly]').forEach(function (price) {
        price.textContent = '€' + price.dataset[billing];
      });
      document.querySelectorAll('[data-billing-note]').forEach(function (note) {
        note.hidden = note.dataset.billingNote !== billing;
      });
    }
    buttons.forEach(function (b) { b.addEventListener('click', function () { show(b.dataset.billing); }); });
    show(new URLSearchParams(location.search).get('billing') === 'annual' ? 'annual' : 'monthly');
  };

  function fact(dl, term, value) {
    dl.appendChild(el('dt', {}, term));
    dl.appendChild(el('dd', {}, value));
  }
  var PLAN_NAMES = { basic: 'Club Basic', plus: 'Club Plus', premium: 'Club Premium' };

  function renderAccount(account) {
    var dl = document.querySelector('[data-test="membership"]');
    dl.replaceChildren();
    fact(dl, 'Plan', account.plan ? PLAN_NAMES[account.plan] + ', ' + account.billing : 'No plan');
    fact(dl, 'Status', account.status);
    if (account.price_cents !== null) fact(dl, 'Price', money(account.price_cents / 100) + (account.billing === 'annual' ? ' a year' : ' a month'));
    if (account.renews_on) fact(dl, 'Renews on', account.renews_on);
    if (account.paused_until) fact(dl, 'Paused until', account.paused_until);
    if (account.ends_on) fact(dl, 'Benefits end on', account.ends_on);
    fact(dl, 'Member since', account.member_since);
  }

  function renderOrders(orders) {
    var box = document.querySelector('[data-test="orders"]');
    box.replaceChildren();
    orders.forEach(function (order) {
      var row = el('div', { 'class': 'order', 'data-test': 'order' });
      row.appendChild(el('strong', {}, order.id + ' '));
      row.appendChild(el('span', { 'class': 'status' }, order.status));
      var names = order.items.map(function (i) { return i.quantity + ' × ' + i.name + ' (' + i.size + ')'; }).join(', ');
      row.appendChild(el('div', { 'class': 'small' }, names));
      var when = order.delivery_date ? 'Delivery on ' + order.delivery_date : 'Delivered';
      row.appendChild(el('div', { 'class': 'muted small' }, when + ' · ' + money(order.total_cents / 100)));
      box.appendChild(row);
    });
  }

  pages.account = function () {
    api('GET', '/api/me/identity').then(function (me) {
      window.bpract('identify', me.user_id, me.traits, me.user_hash);
      document.querySelector('[data-test="greeting"]').textContent = 'Hello, ' + me.traits.name.split(' ')[0];
    });
    api('GET', '/api/me/account').then(renderAccount);
    api('GET', '/api/me/orders').then(renderOrders);
  };

  pages.cancel = function () {
    api('GET', '/api/me/identity').then(function (me) {
      window.bpract('identify', me.user_id, me.traits, me.user_hash);
    });
    var result = document.querySelector('[data-test="cancel-result"]');
    function report(promise, done) {
      promise.then(function (account) {
        result.className = 'notice';
        result.textContent = done(account);
      }).catch(function (err) {
        result.className = 'notice error';
        result.textContent = err.message;
      });
    }
    document.querySelector('[data-test="pause"]').addEventListener('click', function () {
      var months = Number(document.querySelector('[data-test="pause-months"]').value);
      report(api('POST', '/api/me/pause', { months: months }), function (a) {
        return 'Your membership is paused until ' + a.paused_until + '. Nothing will be charged until then.';
      });
    });
    document.querySelector('[data-test="confirm-cancel"]').addEventListener('click', function () {
      var reason = document.querySelector('[data-test="cancel-reason"]').value;
      report(api('POST', '/api/me/cancel', { reason: reason }), function (a) {
        return 'Your membership is cancelled. Your benefits last until ' + (a.ends_on || 'today') + '.';
      });
    });
  };

  function start() {
    showCount();
    var page = pages[document.body.dataset.page];
    if (page) page();
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
