// paybridge sample: the native pay page a mini program needs, because a web-view cannot pay.
// Flow: wx.login → POST {PAYBRIDGE}/api/miniprogram/login {cs, code} → wx.requestPayment(params)
// → wx.navigateBack() to the checkout's web-view, which confirms with the server.
// Set PAYBRIDGE to your paybridge public URL and add it to the mini program's "request" domains.
const PAYBRIDGE = 'https://pay.example.com';

function login() {
  return new Promise((resolve, reject) => {
    wx.login({ success: (r) => (r.code ? resolve(r.code) : reject(new Error('wx.login gave no code'))), fail: reject });
  });
}

function post(path, data) {
  return new Promise((resolve, reject) => {
    wx.request({
      url: PAYBRIDGE + path,
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

Page({
  data: { title: '正在支付… Paying…', message: '', busy: false, retry: false },

  onLoad(query) {
    this.checkout = query.checkout;
    this.pay();
  },

  async pay() {
    if (!this.checkout) {
      this.setData({ title: '参数错误', message: 'missing ?checkout=', retry: false });
      return;
    }
    this.setData({ busy: true, retry: false, message: '' });
    try {
      const code = await login();
      const action = await post('/api/miniprogram/login', { cs: this.checkout, code });
      if (action.type === 'jsapi') {
        const result = await requestPayment(action.params);
        if (result === 'cancel') {
          this.setData({ title: '已取消支付 Cancelled', retry: true });
          return;
        }
        // "ok" means maybe paid: the web-view asks the server, which confirms with WeChat.
        wx.navigateBack();
      } else if (action.type === 'already_paid' || action.type === 'expired') {
        wx.navigateBack();
      } else {
        throw new Error('unexpected next action: ' + action.type);
      }
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
