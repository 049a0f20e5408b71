// paybridge sandbox: a stand-in for WeChat's WeixinJSBridge, loaded only in sandbox mode and
// only where the real bridge is absent. getBrandWCPayRequest checks the paySign with the
// simulator, shows a small pay sheet and reports get_brand_wcpay_request:ok|cancel|fail.
(function () {
  'use strict';
  if (window.WeixinJSBridge) { return; }
  var script = document.currentScript;
  var origin = script && script.src ? new URL(script.src).origin : location.origin;

  function post(path, body) {
    return fetch(origin + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      credentials: 'omit'
    }).then(function (r) { return r.json(); });
  }

  function el(tag, text, styles) {
    var e = document.createElement(tag);
    if (text) { e.textContent = text; }
    if (styles) { Object.assign(e.style, styles); }
    return e;
  }

  function sheet(info, decide) {
    var overlay = el('div', '', { position: 'fixed', left: '0', top: '0', right: '0', bottom: '0',
      background: 'rgba(0,0,0,0.5)', zIndex: '2147483647', display: 'flex', alignItems: 'flex-end',
      justifyContent: 'center', fontFamily: 'sans-serif' });
    overlay.id = 'wxpay-sandbox-sheet';
    var box = el('div', '', { background: '#fff', width: '100%', maxWidth: '480px', borderRadius: '12px 12px 0 0',
      padding: '20px', boxSizing: 'border-box', textAlign: 'center' });
    box.appendChild(el('div', '沙箱 · 模拟微信支付', { color: '#fa9d3b', fontSize: '12px' }));
    box.appendChild(el('div', info.merchant || '', { marginTop: '8px', color: '#333' }));
    box.appendChild(el('div', info.description || '', { color: '#888', fontSize: '13px' }));
    var amount = el('div', '¥' + info.amount, { fontSize: '34px', fontWeight: '600', margin: '12px 0' });
    amount.id = 'wxpay-sandbox-amount';
    box.appendChild(amount);
    var pay = el('button', '确认支付 Pay', { display: 'block', width: '100%', padding: '12px', border: '0',
      borderRadius: '6px', background: '#07c160', color: '#fff', fontSize: '17px' });
    pay.id = 'wxpay-sandbox-pay';
    var cancel = el('button', '取消 Cancel', { display: 'block', width: '100%', padding: '12px', border: '0',
      borderRadius: '6px', background: '#f2f2f2', color: '#333', fontSize: '17px', marginTop: '10px' });
    cancel.id = 'wxpay-sandbox-cancel';
    function done(action) {
      pay.disabled = true; cancel.disabled = true;
      overlay.remove();
      decide(action);
    }
    pay.addEventListener('click', function () { done('pay'); });
    cancel.addEventListener('click', function () { done('cancel'); });
    box.appendChild(pay);
    box.appendChild(cancel);
    overlay.appendChild(box);
    document.body.appendChild(overlay);
  }

  function report(cb, result, desc) {
    if (typeof cb === 'function') {
      var res = { err_msg: 'get_brand_wcpay_request:' + result };
      if (desc) { res.err_desc = desc; }
      cb(res);
    }
  }

  window.WeixinJSBridge = {
    invoke: function (name, params, cb) {
      if (name !== 'getBrandWCPayRequest') {
        if (typeof cb === 'function') { cb({ err_msg: name + ':fail' }); }
        return;
      }
      post('/sandbox/wechat/jsapi/check', params).then(function (info) {
        if (!info.ok) { report(cb, 'fail', info.message); return; }
        sheet(info, function (action) {
          post('/sandbox/wechat/jsapi/pay', { params: params, action: action }).then(function (r) {
            report(cb, r.result, r.message);
          }, function () { report(cb, 'fail', 'network'); });
        });
      }, function () { report(cb, 'fail', 'network'); });
    },
    on: function () {},
    call: function () {}
  };

  function ready() { document.dispatchEvent(new Event('WeixinJSBridgeReady')); }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', function () { setTimeout(ready, 0); });
  } else {
    setTimeout(ready, 0);
  }
})();
