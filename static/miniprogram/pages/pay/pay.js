// paybridge sample: the native pay page a mini program needs, because a web-view cannot pay.
// Two ways in:
// - Hosted checkout (?checkout=cs_…): the checkout page's web-view hands off here.
//   wx.login → POST {PAYBRIDGE}/api/miniprogram/login {cs, code} → wx.requestPayment(params)
//   → wx.navigateBack() to the checkout's web-view, which confirms with the server.
// - Direct API (?intent=pi_…): your own backend knows the shopper's openid (from wx.login's code)
//   and confirms the payment intent with terminal_type "mini_program"; this page fetches the
//   confirmed intent's wechat_pay_mini_program_params from YOUR backend and pays with them.
// Set PAYBRIDGE (and MERCHANT for the direct path) and add them to the mini program's "request"
// domains.
const PAYBRIDGE = 'https://pay.example.com';
const MERCHANT = 'https://shop.example.com';

function login() {
  return new Promise((resolve, reject) => {
    wx.login({ success: (r) => (r.code ? resolve(r.code) : reject(new Error('wx.login gave no code'))), fail: reject });
  });
}

function post(url, data) {
  return new Promise((resolve, reject) => {
    wx.request({
      url,
      method: 'POST',
      header: { 'content-type': 'application/json' },
      data,
      success: (r) => (r.statusCode === 200 ? resolve(r.data)
        : reject(new Error((r.data && r.data.error && r.data.error.message) || 'HTTP ' + r.statusCode))),
      fail: reject,
    });
  });
}

function requestPayment(params) {
  return new Promise((resolve, reject) => {
    // The server's params are exactly what wx.requestPayment takes (appId is ignored here).
    wx.requestPayment({
      timeStamp: params.timeStamp,
      nonceStr: params.nonceStr,
      package: params.package,
      signType: params.signType,
      paySign: params.paySign,
      success: () => resolve('ok'),
      fail: (e) => (e && /cancel/.test(e.errMsg) ? resolve('cancel') : reject(new Error((e && e.errMsg) || 'requestPayment:fail'))),
    });
  });
}

// The hosted checkout's hand-off: paybridge turns the login code into the openid itself.
async function hostedParams(checkout) {
  const code = await login();
  const action = await post(PAYBRIDGE + '/api/miniprogram/login', { cs: checkout, code });
  if (action.type === 'jsapi') return action.params;
  if (action.type === 'already_paid' || action.type === 'expired') return null;
  throw new Error('unexpected next action: ' + action.type);
}

// The direct API: your backend exchanges the code for the openid (jscode2session) and calls
//   POST {PAYBRIDGE}/v1/payment_intents/{intent}/confirm with the secret key and
//   {"payment_method_data":{"type":"wechat_pay"},
//    "payment_method_options":{"wechat_pay":{"terminal_type":"mini_program","openid":"<openid>"}}}
// then answers this page with the intent it got back (or just its next_action).
async function directParams(intent) {
  const code = await login();
  const confirmed = await post(MERCHANT + '/pay/confirm', { intent, code });
  const action = confirmed.next_action;
  if (confirmed.status === 'succeeded') return null;
  if (!action || action.type !== 'wechat_pay_mini_program_params') {
    throw new Error((confirmed.last_payment_error && confirmed.last_payment_error.message) || 'no payment parameters');
  }
  return action.wechat_pay_mini_program_params;
}

Page({
  data: { title: '正在支付… Paying…', message: '', busy: false, retry: false },

  onLoad(query) {
    this.checkout = query.checkout;
    this.intent = query.intent;
    this.pay();
  },

  async pay() {
    if (!this.checkout && !this.intent) {
      this.setData({ title: '参数错误', message: 'missing ?checkout= or ?intent=', retry: false });
      return;
    }
    this.setData({ busy: true, retry: false, message: '' });
    try {
      const params = this.intent ? await directParams(this.intent) : await hostedParams(this.checkout);
      if (params) {
        const result = await requestPayment(params);
        if (result === 'cancel') {
          this.setData({ title: '已取消支付 Cancelled', retry: true });
          return;
        }
      }
      // "ok" means maybe paid: the checkout's web-view (or your backend, from the
      // payment_intent.succeeded webhook) has the verified result.
      wx.navigateBack();
    } catch (e) {
      this.setData({ title: '支付失败 Payment failed', message: String(e.message || e), retry: true });
    } finally {
      this.setData({ busy: false });
    }
  },

  back() {
    wx.navigateBack();
  },
});
